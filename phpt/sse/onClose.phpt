--TEST--
Via\SSE::onClose(): runs once when the client leaves, after close(), or at once if already closed
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$sse = (new Via\Response())->sse();
$sse->close();
Via\run(function () use ($sse): void {
    $sse->onClose(fn() => print("already closed: runs at once\n"));
});
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$log = new Via\Channel(10);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($log, $server): void {
    if ($req->path() === '/log') {
        $res->end((string) $log->pop(5.0));
        return;
    }
    $sse = $res->sse();
    $sse->onClose(function () use ($log, $server): void {
        $log->push('onClose ran; disconnects=' . $server->stats()['sse_disconnects']);
    });
    // The handler returns; the stream is kept by the topic it joined.
    $sse->join('room');
}, function (int $port): void {
    $s = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    fread($s, 4096);
    fclose($s);
    echo via_get($port, '/log')[2], "\n";
});
?>
--EXPECT--
already closed: runs at once
onClose ran; disconnects=1
