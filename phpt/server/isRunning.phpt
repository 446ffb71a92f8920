--TEST--
Via\Server::isRunning(): true while serving
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
var_dump($server->isRunning());
via_serve($server, function ($req, Via\Response $res) use ($server): void {
    $res->end(var_export($server->isRunning(), true));
}, function (int $port): void {
    echo via_get($port, '/')[2], "\n";
});
var_dump($server->isRunning());
?>
--EXPECT--
bool(false)
true
bool(false)
