--TEST--
Via\Server: a request that arrives while PHP's memory is nearly used up (memory_limit) is answered 503 without running PHP, and requests are taken again once memory is freed
--INI--
memory_limit=16M
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($server): void {
    switch ($req->path()) {
        case '/hold':
            // Past 85 % of 16 MiB with what PHP holds already, below the limit itself.
            $GLOBALS['held'] = str_repeat('x', 13 << 20);
            Via\Timer::after(0.3, function (): void {
                unset($GLOBALS['held']);
            });
            $res->end('held');
            return;
        case '/stats':
            $res->end((string) $server->stats()['memory_refusals']);
            return;
    }
    $res->end('hello');
}, function (int $port): void {
    $line = fn (array $r) => $r[0] . ' ' . $r[2];
    echo $line(via_get($port, '/hello')), "\n";
    echo $line(via_get($port, '/hold')), "\n";
    echo $line(via_get($port, '/hello')), "\n";
    // Taken again once the timer freed the memory.
    $deadline = microtime(true) + 10;
    while (($r = via_get($port, '/hello'))[0] !== 'HTTP/1.1 200 OK' && microtime(true) < $deadline) {
        usleep(20000);
    }
    echo $line($r), "\n";
    echo 'refused: ', via_get($port, '/stats')[2] >= 1 ? 'counted' : 'not counted', "\n";
});
?>
--EXPECT--
HTTP/1.1 200 OK hello
HTTP/1.1 200 OK held
HTTP/1.1 503 Service Unavailable 503 Service Unavailable

HTTP/1.1 200 OK hello
refused: counted
