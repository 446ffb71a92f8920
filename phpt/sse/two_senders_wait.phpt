--TEST--
Via\SSE::send() from two tasks to one slow stream: both wait for room and both go on once the client reads (no waiter is lost and left to the backpressure timeout)
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false,
    'sse_backpressure' => 'wait', 'sse_backpressure_timeout' => 5, 'sse_queue_size' => 65536]);
$result = new Via\Channel(1);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($result, $server): void {
    if ($req->path() === '/waits') {
        $res->end((string) $server->stats()['sse_waits']);
        return;
    }
    if ($req->path() === '/result') {
        $res->end((string) $result->pop(30.0));
        return;
    }
    $sse = $res->sse();
    $big = str_repeat('z', 8000);
    // Fill: the socket's buffers, then the queue (a refusal right after a pause).
    for ($i = 0; $i < 5000; $i++) {
        if ($sse->trySend($big) === null) {
            Via\sleep(0.02);
            if ($sse->trySend($big) === null) {
                break;
            }
        }
    }
    $done = new Via\Channel(2);
    foreach (['first', 'second'] as $who) {
        Via\go(function () use ($sse, $big, $done, $who): void {
            $done->push([$who, $sse->send($big)]); // waits for room
        });
    }
    $sent = [];
    for ($n = 0; $n < 2; $n++) {
        [$who, $ok] = $done->pop(30.0);
        $sent[$who] = $ok;
    }
    ksort($sent);
    $sse->send('done', 'end');
    $sse->close();
    $s = $server->stats();
    $result->push(json_encode($sent + ['both_waited' => $s['sse_waits'] >= 2, 'closed_slow' => $s['sse_closed_slow']]));
}, function (int $port): void {
    $stream = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($stream, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"); // not read until both sends wait
    $deadline = microtime(true) + 20;
    while ((int) via_get($port, '/waits')[2] < 2 && microtime(true) < $deadline) {
        usleep(10000);
    }
    stream_set_timeout($stream, 20);
    $seen = '';
    while (!str_contains($seen, "event: end") && !feof($stream)) {
        $chunk = fread($stream, 65536);
        if ($chunk === false || $chunk === '') {
            break;
        }
        $seen = substr($seen, -64) . $chunk;
    }
    echo via_get($port, '/result')[2], "\n";
});
?>
--EXPECT--
{"first":true,"second":true,"both_waited":true,"closed_slow":0}
