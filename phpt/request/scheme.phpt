--TEST--
Via\Request::scheme(): http on a plaintext listener
--FILE--
<?php
require __DIR__ . '/../serve.inc';
var_dump((new Via\Request(['scheme' => 'https']))->scheme());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($req->scheme()),
    function (int $port): void { echo via_get($port, '/')[2], "\n"; });
?>
--EXPECT--
string(5) "https"
http
