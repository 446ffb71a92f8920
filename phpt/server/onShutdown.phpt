--TEST--
Via\Server::onShutdown(): hooks run after the drain, before start() returns
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$server->onShutdown(function (Via\Server $s): void {
    Via\sleep(0.01); // hooks may suspend
    echo "shutdown hook, running=", var_export($s->isRunning(), true), "\n";
});
via_serve($server, fn($req, $res) => $res->end('x'), function (int $port): void {});
echo "start() returned\n";
?>
--EXPECT--
shutdown hook, running=true
start() returned
