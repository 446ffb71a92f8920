--TEST--
Via\SSE::id(): distinct per stream, 0 when detached
--FILE--
<?php
require __DIR__ . '/../serve.inc';
var_dump((new Via\Response())->sse()->id());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false]);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $sse = $res->sse();
    $sse->send((string) $sse->id());
    $sse->close();
}, function (int $port): void {
    $a = (int) substr(via_get($port, '/')[2], 6);
    $b = (int) substr(via_get($port, '/')[2], 6);
    echo $a > 0 && $b !== $a ? "distinct\n" : "bad $a $b\n";
});
?>
--EXPECT--
int(0)
distinct
