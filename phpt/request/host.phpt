--TEST--
Via\Request::host(): the Host header
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($req->host()),
    function (int $port): void { echo via_parse(via_http($port, "GET / HTTP/1.1\r\nHost: example.test:8080\r\nConnection: close\r\n\r\n"))[2], "\n"; });
?>
--EXPECT--
example.test:8080
