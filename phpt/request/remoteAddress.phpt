--TEST--
Via\Request::remoteAddress(), remotePort(): the client socket
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($req->remoteAddress() . ' ' . ($req->remotePort() > 0 ? 'port' : 'noport')),
    function (int $port): void { echo via_get($port, '/')[2], "\n"; });
?>
--EXPECT--
127.0.0.1 port
