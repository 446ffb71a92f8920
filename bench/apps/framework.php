<?php
// The framework side of bench/framework.py (client: bench/framework_load.rs).
//
//   php -d extension=target/release/libvia.so bench/apps/framework.php <port> [brotli]
//
//   GET  /counter            a TAB page: one signal `count`, one action `increment` that
//                            adds one and sync()s the tab (the view, then the signal)
//   GET  /room               a ROUTE page: one signal `hits` shared by every tab on /room;
//                            its action `bump` adds one, which broadcasts route:/room
//   GET  /room-signals       a diagnostic ROUTE page: its action `bump` pushes only the
//                            signal (syncSignals()) to every tab on the route, one event per
//                            tab instead of broadcast's two (elements, then signals)
//   GET  /_bench             the app's counters (Via::getStats()) as JSON, for the driver
//
// Options: argv[2] or VIA_BENCH_BROTLI=1 turns on withBrotli() (streams compressed for
// clients that accept br); VIA_BENCH_LOG sets the log level (default warn).
declare(strict_types=1);

spl_autoload_register(function (string $class): void {
    $prefix = 'Via\\Framework\\';
    if (str_starts_with($class, $prefix)) {
        $file = dirname(__DIR__, 2) . '/php/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

use Via\Framework\Action;
use Via\Framework\Config;
use Via\Framework\Context;
use Via\Framework\Scope;
use Via\Framework\Signal;
use Via\Framework\Via;

$port = (int) ($argv[1] ?? 3000);
$brotli = ($argv[2] ?? '') === 'brotli' || getenv('VIA_BENCH_BROTLI') === '1';

$config = (new Config())
    ->withHost('127.0.0.1')
    ->withPort($port)
    ->withLogLevel(getenv('VIA_BENCH_LOG') ?: 'warn')
    ->withBrotli($brotli)
    ->withServerOptions(['max_connections' => 30000]);
$app = new Via($config);

$app->page('/counter', function (Context $ctx): void {
    $count = $ctx->signal(0, 'count');
    $increment = $ctx->action(function (Context $ctx) use ($count): void {
        $count->setValue($count->int() + 1);
        $ctx->sync();
    }, 'increment');
    $ctx->view(fn (): string => <<<HTML
        <div id="counter">
          <span data-text="\${$count->id()}">{$count->int()}</span>
          <button data-on-click="{$increment->post()}">+1</button>
        </div>
        HTML);
});

/** The room pages' view: the shared counter and its button. */
function roomView(Signal $hits, Action $bump): string
{
    return <<<HTML
        <div id="room">
          <span data-text="\${$hits->id()}">{$hits->int()}</span>
          <button data-on-click="{$bump->post()}">+1 for everybody</button>
        </div>
        HTML;
}

$app->page('/room', function (Context $ctx): void {
    $ctx->scope(Scope::ROUTE);
    $hits = $ctx->signal(0, 'hits');
    // Registered once for the route; the signal is the route's, so setting it broadcasts.
    $bump = $ctx->action(function (Context $ctx) use ($hits): void {
        $hits->setValue($hits->int() + 1);
    }, 'bump');
    $ctx->view(fn (): string => roomView($hits, $bump));
});

$app->page('/room-signals', function (Context $ctx) use ($app): void {
    $ctx->scope(Scope::ROUTE);
    $hits = $ctx->signal(0, 'hits', autoBroadcast: false);
    $bump = $ctx->action(function (Context $ctx) use ($app, $hits): void {
        $hits->setValue($hits->int() + 1);
        foreach ($app->getContextsByScope($ctx->getPrimaryScope()) as $tab) {
            if ($tab->getStream() !== null) {
                $tab->syncSignals();
            }
        }
    }, 'bump');
    $ctx->view(fn (): string => roomView($hits, $bump));
});

$app->notFound(function (\Via\Request $req, \Via\Response $res) use ($app): void {
    if ($req->path() !== '/_bench') {
        $res->status(404);
        $res->end('Not Found');
        return;
    }
    $res->header('Content-Type', 'application/json');
    $res->end((string) json_encode($app->getStats()));
});

$app->start();
