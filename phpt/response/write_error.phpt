--TEST--
Via\Response::write(): after end() it throws; once the client is gone it returns false
--FILE--
<?php
function show(callable $f): void {
    try {
        $f();
        echo "no error\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

require __DIR__ . '/../serve.inc';
$r = new Via\Response();
$r->end('x');
show(fn() => $r->write('more'));
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$result = new Via\Channel(1);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($result): void {
    if ($req->path() === '/result') {
        $res->end((string) $result->pop(5.0));
        return;
    }
    $res->write("first\n");
    for ($i = 0; $i < 200 && $res->write(str_repeat('x', 1000)); $i++) {
        Via\sleep(0.01);
    }
    $result->push(sprintf('writable=%s after %s', var_export($res->isWritable(), true), $i < 200 ? 'the client left' : 'all writes'));
}, function (int $port): void {
    $s = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    fread($s, 100);
    fclose($s);
    echo via_get($port, '/result')[2], "\n";
});
?>
--EXPECT--
Via\Exception: Via\Response::write(): the response has already ended
writable=false after the client left
