--TEST--
Via\Request::id(): distinct per request on a server, 0 when constructed
--FILE--
<?php
require __DIR__ . '/../serve.inc';
var_dump((new Via\Request())->id());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end((string) $req->id()),
    function (int $port): void {
        $a = via_get($port, '/')[2];
        $b = via_get($port, '/')[2];
        echo $a > 0 && $b > $a ? "increasing\n" : "bad: $a $b\n";
    });
?>
--EXPECT--
int(0)
increasing
