--TEST--
Via\SSE::close(): ends the stream after queued events; the client sees them all
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false]);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $sse = $res->sse();
    for ($i = 0; $i < 3; $i++) {
        $sse->send("n$i");
    }
    $sse->close();
    $sse->close(); // idempotent
    var_dump($sse->isOpen());
}, function (int $port): void {
    echo via_get($port, '/')[2];
});
?>
--EXPECT--
bool(false)
data: n0

data: n1

data: n2
