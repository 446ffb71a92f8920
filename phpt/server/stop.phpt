--TEST--
Via\Server::stop(): false when not running; from a handler it drains and start() returns
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
var_dump($server->stop());
$other = new Via\Server();
via_serve($server, function (Via\Request $req, Via\Response $res) use ($other): void {
    $res->end('other running: ' . var_export($other->stop(), true));
}, function (int $port): void {
    echo via_get($port, '/')[2], "\n";
});
echo "returned\n";
?>
--EXPECT--
bool(false)
other running: false
returned
