--TEST--
Via\SSE::join(): a stream in a topic stays open when the application lets go of a Via\Response it kept past its handler
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$kept = [];
via_serve($server, function (Via\Request $req, Via\Response $res) use ($server, &$kept): void {
    if ($req->path() === '/publish') {
        $kept = []; // the last reference the application held to the stream's response
        $server->publish('room', 'hello');
        $res->end('published');
        return;
    }
    $kept[] = $res;
    $res->sse()->join('room');
}, function (int $port): void {
    $s = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    fread($s, 4096); // the head
    echo via_get($port, '/publish')[2], "\n";
    stream_set_timeout($s, 5);
    // The event, as one chunk; the stream goes on (no last chunk).
    echo json_encode(fread($s, 4096)), "\n";
});
?>
--EXPECT--
published
"d\r\ndata: hello\n\n\r\n"
