--TEST--
Via\Server::start(): serves HTTP/1.1 with keep-alive until stopped, then returns
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->header('Content-Type', 'text/plain');
    $res->end('hello ' . $req->path());
}, function (int $port): void {
    $raw = via_http($port, "GET /one HTTP/1.1\r\nHost: t\r\n\r\nGET /two HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    echo substr_count($raw, "HTTP/1.1 200 OK"), " responses on one connection\n";
    echo str_contains($raw, 'hello /one') && str_contains($raw, 'hello /two') ? "bodies ok\n" : "bad: $raw\n";
});
var_dump($server->isRunning(), $server->port());
?>
--EXPECT--
2 responses on one connection
bodies ok
bool(false)
int(0)
