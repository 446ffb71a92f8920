--TEST--
Via\SSE::send(): a fatal error elsewhere while send() waits for a slow client ends the process cleanly
--FILE--
<?php
require __DIR__ . '/../serve.inc';
ini_set('memory_limit', '32M');
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'error', 'compression' => false,
    'sse_backpressure' => 'wait', 'sse_backpressure_timeout' => 10.0, 'sse_queue_size' => 65536]);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($server): void {
    if ($req->path() === '/waits') {
        $res->end((string) $server->stats()['sse_waits']);
        return;
    }
    if ($req->path() === '/fatal') {
        $big = str_repeat('x', 64 * 1024 * 1024); // exceeds memory_limit: E_ERROR
        return;
    }
    $sse = $res->sse();
    $event = str_repeat('y', 8000);
    // Ends only when send() returns false; the client checks that it is waiting.
    for ($i = 0; $i < 100000 && $sse->send($event); $i++) {
    }
}, function (int $port): void {
    $stuck = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($stuck, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    for ($i = 0; $i < 500 && via_get($port, '/waits')[2] === '0'; $i++) {
        usleep(10000);
    }
    echo "send() waits: ", via_get($port, '/waits')[2] !== '0' ? 'yes' : 'no', "\n";
    $fatal = via_parse(via_http($port, "GET /fatal HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    echo "fatal request: ", $fatal[0] === '' ? 'connection closed' : $fatal[0], "\n";
    stream_set_timeout($stuck, 10);
    while (!feof($stuck) && fread($stuck, 65536) !== false && !stream_get_meta_data($stuck)['timed_out']) {
    }
    echo "stream: ", stream_get_meta_data($stuck)['timed_out'] ? 'still open' : 'closed', "\n";
});
echo "not reached\n";
?>
--EXPECTF--
send() waits: yes
%AFatal error: Allowed memory size of %d bytes exhausted%A
fatal request: %s
stream: closed
