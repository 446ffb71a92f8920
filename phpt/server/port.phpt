--TEST--
Via\Server::port(): the bound port with port 0, 0 when not running
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
var_dump($server->port());
via_serve($server, function ($req, Via\Response $res) use ($server): void {
    $res->end((string) $server->port());
}, function (int $port): void {
    echo via_get($port, '/')[2] === (string) $port ? "matches\n" : "differs\n";
});
?>
--EXPECT--
int(0)
matches
