--TEST--
Via\SSE: an EventSource-style request (Accept: text/event-stream) gets the same stream, and the client leaving runs onClose
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'sse_heartbeat' => 0]);
$log = new Via\Channel(10);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($log, $server): void {
    if ($req->path() === '/log') {
        $res->end((string) $log->pop(5.0));
        return;
    }
    $sse = $res->sse();
    $sse->onClose(fn () => $log->push('onClose ran; disconnects=' . $server->stats()['sse_disconnects']));
    $sse->send("line 1\nline 2", 'greeting', '7');
    $sse->join('room');
}, function (int $port): void {
    $s = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($s, "GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n");
    $got = '';
    while (!str_contains($got, "data: line 2\n\n")) {
        $got .= fread($s, 4096);
    }
    [$head, $body] = explode("\r\n\r\n", $got, 2);
    $head = strtolower($head);
    echo str_contains($head, 'content-type: text/event-stream') ? "event-stream\n" : "no content type\n";
    echo str_contains($head, 'cache-control: no-cache') ? "no-cache\n" : "cacheable\n";
    echo str_contains($head, 'transfer-encoding: chunked') ? "chunked\n" : "not chunked\n";
    echo substr($body, strpos($body, "\r\n") + 2, -2);
    fclose($s);
    echo via_get($port, '/log')[2], "\n";
});
?>
--EXPECT--
event-stream
no-cache
chunked
event: greeting
id: 7
data: line 1
data: line 2

onClose ran; disconnects=1
