--TEST--
Via\Server::onWorkerStop(): runs on stop with the worker id, next to onShutdown
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$server->onWorkerStop(fn (Via\Server $s, int $id) => print("onWorkerStop $id\n"));
$server->onShutdown(fn () => print("onShutdown\n"));
via_serve($server, fn ($req, $res) => $res->end('ok'), function (int $port): void {
    via_get($port, '/');
});
echo "returned\n";
?>
--EXPECT--
onWorkerStop 0
onShutdown
returned
