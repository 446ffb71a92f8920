--TEST--
Via\Server::onStart(): hooks run in tasks once the server listens, with the server
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$server->onStart(function (Via\Server $s) use ($server): void {
    echo "start: same=", var_export($s === $server, true), " port>0=", var_export($s->port() > 0, true),
        " task=", var_export(Via\taskId() > 0, true), "\n";
});
via_serve($server, fn($req, $res) => $res->end('x'), function (int $port): void {});
echo "done\n";
?>
--EXPECT--
start: same=true port>0=true task=true
done
