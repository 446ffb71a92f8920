--TEST--
Via\SSE::isOpen(): false once the client left, noticed without a write
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'sse_heartbeat' => 0]);
$result = new Via\Channel(1);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($result): void {
    if ($req->path() === '/result') {
        $res->end((string) $result->pop(5.0));
        return;
    }
    $sse = $res->sse();
    $before = $sse->isOpen();
    $closed = $sse->waitClosed(5.0); // no write happens meanwhile
    $result->push(json_encode([$before, $closed, $sse->isOpen()]));
}, function (int $port): void {
    $s = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    fread($s, 4096);
    fclose($s);
    echo via_get($port, '/result')[2], "\n";
});
?>
--EXPECT--
[true,true,false]
