--TEST--
Via\Server: a handler may end() and keep working (like fastcgi_finish_request)
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$log = new Via\Channel(10);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($log): void {
    if ($req->path() === '/work') {
        $res->end('accepted');
        Via\sleep(0.05);
        $log->push('background done');
        return;
    }
    $res->end((string) $log->pop(2.0));
}, function (int $port): void {
    $t = microtime(true);
    echo via_get($port, '/work')[2], "\n";
    echo (microtime(true) - $t) < 0.04 ? "answered before the work\n" : "answered late\n";
    echo via_get($port, '/result')[2], "\n";
});
?>
--EXPECT--
accepted
answered before the work
background done
