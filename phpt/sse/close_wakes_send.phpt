--TEST--
Via\SSE::close() from another task ends a send() that waits for room at once, not after the backpressure timeout
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false,
    'sse_backpressure' => 'wait', 'sse_backpressure_timeout' => 20, 'sse_queue_size' => 65536]);
$result = new Via\Channel(1);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($result, $server): void {
    if ($req->path() === '/result') {
        $res->end((string) $result->pop(30.0));
        return;
    }
    $sse = $res->sse();
    $big = str_repeat('y', 8000);
    // Fill: the socket's buffers, then the queue (a refusal right after a pause).
    for ($i = 0; $i < 5000; $i++) {
        if ($sse->trySend($big) === null) {
            Via\sleep(0.02);
            if ($sse->trySend($big) === null) {
                break;
            }
        }
    }
    Via\go(function () use ($sse): void {
        Via\sleep(0.2);
        $sse->close(); // as the framework does when the tab's next stream attaches
    });
    $t = microtime(true);
    $sent = $sse->send($big); // waits for room
    $took = microtime(true) - $t;
    $s = $server->stats();
    $result->push(json_encode(['sent' => $sent, 'waited' => $s['sse_waits'] > 0,
        'ended_by_close' => $took >= 0.15 && $took < 5.0, 'closed_slow' => $s['sse_closed_slow']]));
}, function (int $port): void {
    $stuck = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($stuck, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"); // and never read
    echo via_get($port, '/result')[2], "\n";
});
?>
--EXPECT--
{"sent":false,"waited":true,"ended_by_close":true,"closed_slow":0}
