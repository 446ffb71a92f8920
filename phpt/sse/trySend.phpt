--TEST--
Via\SSE::trySend(): queued while the client keeps up, null once its queue is full (nothing queued, no policy), false once closed
--FILE--
<?php
require __DIR__ . '/../serve.inc';
// The policy is "wait": send() would suspend here, trySend() must not.
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false,
    'sse_backpressure' => 'wait', 'sse_queue_size' => 65536]);
$result = new Via\Channel(1);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($result, $server): void {
    if ($req->path() === '/result') {
        $res->end((string) $result->pop(10.0));
        return;
    }
    $sse = $res->sse();
    $big = str_repeat('x', 8000);
    $queued = 0;
    $full = false;
    $again = 'none';
    $events = -1;
    // Until the client is stuck for good (its socket's buffers full, then the queue): a
    // refusal right after a pause, when the writer could have taken some.
    for ($i = 0; $i < 5000; $i++) {
        if ($sse->trySend($big, 'fill') !== null) {
            $queued++;
            continue;
        }
        $full = true;
        Via\sleep(0.02);
        $events = $server->stats()['sse_events'];
        if (($again = $sse->trySend($big)) === null) {
            break;
        }
    }
    $s = $server->stats();
    $sse->close();
    $result->push(json_encode([
        'full' => $full, 'queued' => $queued > 0, 'again' => $again,
        'counted' => $events === $s['sse_events'], 'open_while_full' => $s['sse_closed_slow'] === 0,
        'dropped' => $s['sse_dropped'], 'after_close' => $sse->trySend('x'),
    ]));
}, function (int $port): void {
    $stuck = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($stuck, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"); // and never read
    echo via_get($port, '/result')[2], "\n";
});

?>
--EXPECT--
{"full":true,"queued":true,"again":null,"counted":true,"open_while_full":true,"dropped":0,"after_close":false}
