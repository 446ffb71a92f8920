--TEST--
Via\Response::end(): whole body with Content-Length; returns true
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$d = new Via\Response();
var_dump($d->end("bin\0"), bin2hex($d->getBody()), $d->isEnded());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->header('Content-Length', '999'); // replaced by the real length
    $res->end($req->path() === '/empty' ? null : 'hello');
}, function (int $port): void {
    [$s, $h, $b] = via_get($port, '/');
    echo $h['content-length'][0], " $b\n";
    [$s, $h, $b] = via_get($port, '/empty');
    echo $h['content-length'][0], " '$b'\n";
});
?>
--EXPECT--
bool(true)
string(8) "62696e00"
bool(true)
5 hello
0 ''
