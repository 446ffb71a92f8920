--TEST--
Via\Response::write(): chunks go out at once, chunked on HTTP/1.1
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$d = new Via\Response();
var_dump($d->write('a'), $d->write('b'), $d->headersSent(), $d->getBody());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->header('Content-Type', 'text/plain');
    $res->write('');               // flushes the headers
    for ($i = 1; $i <= 3; $i++) {
        $res->write("part $i\n");
        Via\sleep(0.02);
    }
    $res->end('end');
}, function (int $port): void {
    $s = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($s, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    $first = fread($s, 8192);   // arrives before the handler finished
    echo str_contains($first, "transfer-encoding: chunked") ? "chunked\n" : "not chunked: $first\n";
    $rest = stream_get_contents($s);
    echo via_parse($first . $rest)[2], "\n";
});
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
string(2) "ab"
chunked
part 1
part 2
part 3
end
