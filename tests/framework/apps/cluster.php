<?php
/**
 * A two-worker app for the cluster tests (tests/framework/test_cluster.py): several of
 * these servers share one broker (VIA_BROKER = redis or nats, VIA_BROKER_PORT) and one
 * "database" (VIA_SHARED_FILE, a file standing in for the database a real app would
 * share). A poke on any node appends to the file and broadcasts the page's ROUTE scope;
 * every tab on every node re-renders from the file.
 *
 * Usage: php -d extension=…/libvia.so tests/framework/apps/cluster.php PORT
 */
declare(strict_types=1);

require dirname(__DIR__, 3) . '/examples/bootstrap.php';

use Via\Framework\Broker\NatsBroker;
use Via\Framework\Broker\RedisBroker;
use Via\Framework\Config;
use Via\Framework\Context;
use Via\Framework\Scope;
use Via\Framework\Via;

$port = (int) ($argv[1] ?? 3000);
$brokerPort = (int) getenv('VIA_BROKER_PORT');
$broker = getenv('VIA_BROKER') === 'nats'
    ? new NatsBroker('127.0.0.1', $brokerPort, subject: 'via.cluster-test')
    : new RedisBroker('127.0.0.1', $brokerPort, channel: 'via:cluster-test');
$shared = (string) getenv('VIA_SHARED_FILE');
$node = (string) getenv('VIA_NODE');

$config = (new Config())
    ->withHost('127.0.0.1')
    ->withPort($port)
    ->withLogLevel(getenv('VIA_LOG_LEVEL') ?: 'warn')
    ->withWorkerNum(2)
    ->withBroker($broker)
    ->onBrokerError(function (Throwable $e) use ($node): void {
        fwrite(STDERR, "node $node broker error: {$e->getMessage()}\n");
    });

$app = new Via($config);

$app->page('/', function (Context $ctx) use ($app, $shared, $node): void {
    $ctx->scope(Scope::ROUTE);
    $poke = $ctx->action(function (Context $c) use ($shared, $node): void {
        file_put_contents($shared, "poke from node $node\n", FILE_APPEND | LOCK_EX);
        $c->broadcast();
    }, 'poke');
    $ctx->view(function () use ($shared, $node, $poke): string {
        $lines = is_file($shared) ? array_filter(explode("\n", (string) file_get_contents($shared))) : [];
        $items = implode('', array_map(fn (string $l) => '<li>' . htmlspecialchars($l) . '</li>', $lines));
        return '<main id="app"><p>node <b id="node">' . htmlspecialchars($node) . '</b>, pokes: <output id="pokes">'
            . count($lines) . '</output></p><button id="poke" data-on:click="' . $poke->post() . '">poke</button>'
            . '<ul id="log">' . $items . '</ul></main>';
    });
});

$app->start();
