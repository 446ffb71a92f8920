--TEST--
Via\Server: a fatal error in a handler answers in-flight requests with 500 and ends the process
--FILE--
<?php
require __DIR__ . '/../serve.inc';
ini_set('memory_limit', '32M');
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'error']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    if ($req->path() === '/slow') {
        Via\sleep(5);
        $res->end('never');
        return;
    }
    $res->write('');
    $big = str_repeat('x', 64 * 1024 * 1024); // exceeds memory_limit: E_ERROR
}, function (int $port): void {
    $slow = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($slow, "GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    usleep(100000);
    $fatal = via_parse(via_http($port, "GET /fatal HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    echo "fatal request: ", $fatal[0] === '' ? 'connection closed' : $fatal[0], "\n";
    stream_set_timeout($slow, 5);
    $raw = stream_get_contents($slow);
    echo "in-flight request: ", explode("\r\n", $raw)[0], "\n";
});
echo "not reached\n";
?>
--EXPECTF--
%AFatal error: Allowed memory size of %d bytes exhausted%A
fatal request: %s
in-flight request: HTTP/1.1 500 Internal Server Error
