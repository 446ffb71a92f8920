--TEST--
Via\Server::onWorkerStart(): runs in a task with the server and worker 0 in one process, before onStart
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$server->onStart(fn () => print("onStart\n"));
$server->onWorkerStart(function (Via\Server $s, int $id) use ($server) {
    echo "onWorkerStart ", $id, ' ', $s === $server ? 'same server' : 'other', "\n";
});
via_serve($server, fn ($req, $res) => $res->end('ok'), function (int $port): void {
    echo via_get($port, '/')[2], "\n";
});
?>
--EXPECT--
onWorkerStart 0 same server
onStart
ok
