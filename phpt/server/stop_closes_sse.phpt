--TEST--
Via\Server::stop(): open event streams get a retry hint and end
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false]);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->sse()->join('forever');
}, function (int $port): void {
    $s = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    fread($s, 4096);
    via_http($port, "GET /__stop HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    stream_set_timeout($s, 5);
    echo str_contains(stream_get_contents($s), "retry: 2000\n\n") ? "retry hint, then the end\n" : "no hint\n";
});
?>
--EXPECT--
retry hint, then the end
