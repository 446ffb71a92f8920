--TEST--
Via\Server option "reactor": "php" serves with the PHP thread driving the I/O, a standby drives it while a handler blocks; wrong values are errors
--FILE--
<?php
require __DIR__ . '/../serve.inc';
foreach ([['reactor' => 'kernel'], ['reactor' => 1]] as $options) {
    try {
        (new Via\Server('127.0.0.1', 0, $options + ['log_level' => 'off']))->onRequest(fn() => null)->start();
        echo "no error\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$server = new Via\Server('127.0.0.1', 0, ['reactor' => 'php', 'log_level' => 'off', 'health_path' => '/health']);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($server): void {
    if ($req->path() === '/later') {
        // The I/O waits while PHP runs; a task that sleeps lets it go on.
        Via\sleep(0.05);
    }
    if ($req->path() === '/takeovers') {
        $res->end($server->stats()['standby_takeovers'] > 0 ? 'taken over' : 'never');
        return;
    }
    if ($req->path() === '/block') {
        usleep(800000); // blocks the PHP thread: no yield to the loop
    }
    $res->end($req->method() . ' ' . $req->path() . ' ' . strlen($req->body()));
}, function (int $port): void {
    echo via_get($port, '/a')[2], "\n";
    echo via_get($port, '/later')[2], "\n";
    $raw = via_http($port, "POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
        . "GET /q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    echo preg_match_all('~HTTP/1.1 200~', $raw), " answers: ",
        str_contains($raw, 'POST /p 3') && str_contains($raw, 'GET /q 0') ? 'both' : $raw, "\n";
    // While a handler blocks PHP, the standby drives the I/O: the runtime's own answers go on.
    $blocked = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5);
    fwrite($blocked, "GET /block HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    usleep(100000); // let PHP enter the handler
    $t = microtime(true);
    $health = via_get($port, '/health')[0];
    $took = microtime(true) - $t;
    echo $health, ' while PHP blocks: ', $took < 0.5 ? 'answered' : sprintf('after %.3f s', $took), "\n";
    stream_set_timeout($blocked, 10);
    echo str_contains(stream_get_contents($blocked), 'GET /block 0') ? 'blocked one answered' : 'lost', "\n";
    echo via_get($port, '/takeovers')[2], "\n";
});
echo "stopped\n";
?>
--EXPECTF--
ValueError: Via\Server::__construct(): option "reactor": must be "auto", "threads" or "php", "kernel" given
ValueError: Via\Server::__construct(): option "reactor": must be a string, int given
GET /a 0
GET /later 0
2 answers: both
HTTP/1.1 200 OK while PHP blocks: answered
blocked one answered
taken over
stopped
