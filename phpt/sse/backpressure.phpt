--TEST--
Via\SSE: a client that stops reading — the drop and close policies
--FILE--
<?php
require __DIR__ . '/../serve.inc';
foreach (['drop', 'close'] as $policy) {
    $server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false,
        'sse_backpressure' => $policy, 'sse_queue_size' => 65536]);
    $result = new Via\Channel(1);
    via_serve($server, function (Via\Request $req, Via\Response $res) use ($result, $server): void {
        if ($req->path() === '/result') {
            $res->end((string) $result->pop(10.0));
            return;
        }
        $sse = $res->sse();
        $big = str_repeat('x', 8000);
        $refused = 0;
        for ($i = 0; $i < 2000 && $refused < 5; $i++) {
            if (!$sse->send($big)) {
                $refused++;
            }
            if ($i % 50 === 0) {
                Via\sleep(0.001);
            }
        }
        $s = $server->stats();
        $result->push(json_encode(['refused' => $refused > 0, 'open' => $sse->isOpen(),
            'dropped' => $s['sse_dropped'] > 0, 'closed_slow' => $s['sse_closed_slow']]));
    }, function (int $port): void {
        $stuck = stream_socket_client("tcp://127.0.0.1:$port");
        fwrite($stuck, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"); // and never read
        echo via_get($port, '/result')[2], "\n";
    });
}
?>
--EXPECT--
{"refused":true,"open":true,"dropped":true,"closed_slow":0}
{"refused":true,"open":false,"dropped":false,"closed_slow":1}
