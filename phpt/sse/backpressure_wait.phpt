--TEST--
Via\SSE: the wait policy suspends the sender until the client reads, then closes after the timeout
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false,
    'sse_backpressure' => 'wait', 'sse_backpressure_timeout' => 0.3, 'sse_queue_size' => 65536]);
$result = new Via\Channel(1);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($result, $server): void {
    if ($req->path() === '/result') {
        $res->end((string) $result->pop(10.0));
        return;
    }
    $sse = $res->sse();
    $big = str_repeat('y', 8000);
    $t = microtime(true);
    for ($i = 0; $i < 5000 && $sse->send($big); $i++) {
    }
    $s = $server->stats();
    $result->push(json_encode(['waited' => $s['sse_waits'] > 0, 'closed_slow' => $s['sse_closed_slow'],
        'open' => $sse->isOpen(), 'took_timeout' => microtime(true) - $t >= 0.3]));
}, function (int $port): void {
    $stuck = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($stuck, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    echo via_get($port, '/result')[2], "\n";
});
?>
--EXPECT--
{"waited":true,"closed_slow":1,"open":false,"took_timeout":true}
