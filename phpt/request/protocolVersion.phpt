--TEST--
Via\Request::protocolVersion(): 1.0 and 1.1 over HTTP/1
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($req->protocolVersion()),
    function (int $port): void {
        echo via_parse(via_http($port, "GET / HTTP/1.0\r\nHost: t\r\n\r\n"))[2], "\n";
        echo via_get($port, '/')[2], "\n";
    });
?>
--EXPECT--
1.0
1.1
