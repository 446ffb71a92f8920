<?php
/**
 * A ROUTE page whose broadcasts carry a 256 KiB view, on a server with a 64 KiB event
 * queue per stream: for tests/framework/test_slow_tab.py, where a tab that stops reading
 * fills its socket's buffers (a few MiB on loopback) and then its queue within the test's
 * broadcasts, and must not hold back the other tabs' patches.
 *
 * Usage: php -d extension=…/libvia.so tests/framework/apps/slow_tab.php PORT
 */
declare(strict_types=1);

require dirname(__DIR__, 3) . '/examples/bootstrap.php';

use Via\Framework\Config;
use Via\Framework\Context;
use Via\Framework\Scope;
use Via\Framework\Via;

$config = (new Config())
    ->withHost('127.0.0.1')
    ->withPort((int) ($argv[1] ?? 3000))
    ->withLogLevel(getenv('VIA_LOG_LEVEL') ?: 'warn')
    // "wait" is the default policy: a send() to the full queue waits up to 2 s, then closes it.
    ->withServerOptions(['sse_queue_size' => 65536, 'sse_backpressure_timeout' => 2.0]);
$app = new Via($config);

$app->page('/', function (Context $ctx): void {
    $ctx->scope(Scope::ROUTE);
    $hits = $ctx->signal(0, 'hits');
    $bump = $ctx->action(function (Context $c) use ($hits): void {
        $hits->setValue($hits->int() + 1); // a scoped signal: broadcasts the route
    }, 'bump');
    $filler = str_repeat(str_repeat('x', 1023) . "\n", 256);
    $ctx->view(fn (): string => '<main id="app"><output id="hits">' . $hits->int() . '</output>'
        . '<button id="bump" data-on:click="' . $bump->post() . '">+1</button><pre>' . $filler . '</pre></main>');
});

$app->start();
