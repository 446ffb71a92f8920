--TEST--
Via\Request::method(): any method token, including QUERY
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($req->method()),
    function (int $port): void {
        foreach (['GET', 'POST', 'QUERY', 'PURGE', 'DELETE'] as $m) {
            echo via_parse(via_http($port, "$m / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))[2], "\n";
        }
    });
?>
--EXPECT--
GET
POST
QUERY
PURGE
DELETE
