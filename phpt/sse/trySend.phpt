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
    $full = null;
    for ($i = 0; $i < 5000; $i++) {
        $r = $sse->trySend($big, 'fill');
        if ($r === null) {
            $full = $i;
            break;
        }
        $queued++;
        if ($i % 50 === 0) {
            Via\sleep(0.001); // the writer takes what the socket still takes
        }
    }
    $events = $server->stats()['sse_events'];
    $again = $sse->trySend($big);
    $s = $server->stats();
    $sse->close();
    $result->push(json_encode([
        'full' => $full !== null, 'queued' => $queued > 0, 'again' => $again,
        'counted' => $events === $s['sse_events'], 'open_while_full' => $s['sse_closed_slow'] === 0,
        'dropped' => $s['sse_dropped'], 'after_close' => $sse->trySend('x'),
    ]));
}, function (int $port): void {
    $stuck = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($stuck, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"); // and never read
    echo via_get($port, '/result')[2], "\n";
});

function show(callable $f): void {
    try {
        echo var_export($f(), true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
// A detached stream (no connection) takes every event; the checks are send()'s.
$sse = (new Via\Response())->sse();
show(fn() => $sse->trySend('a', 'name', '7', 100));
show(fn() => $sse->trySend('x', "bad\nname"));
show(fn() => $sse->trySend('x', null, "1\r2"));
show(fn() => $sse->trySend('x', null, null, -5));
show(fn() => $sse->trySend([]));
?>
--EXPECT--
{"full":true,"queued":true,"again":null,"counted":true,"open_while_full":true,"dropped":0,"after_close":false}
true
ValueError: Via\SSE::trySend(): the event name must not contain CR or LF
ValueError: Via\SSE::trySend(): the id must not contain CR, LF or NUL
ValueError: Via\SSE::trySend(): Argument #4 ($retry) must be >= 0, -5 given
TypeError: Via\SSE::trySend(): Argument #1 ($data) must be of type string, array given
