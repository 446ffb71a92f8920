--TEST--
Via\Request::body(): the raw body, binary-safe, also from the network
--FILE--
<?php
require __DIR__ . '/../serve.inc';
var_dump(bin2hex((new Via\Request(['body' => "\x00\xff"]))->body()));
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end(bin2hex($req->body())),
    function (int $port): void {
        echo via_parse(via_http($port, "POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n\x00\x01\r\n1\r\n\xfe\r\n0\r\n\r\n"))[2], "\n";
    });
?>
--EXPECT--
string(4) "00ff"
0001fe
