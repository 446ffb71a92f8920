--TEST--
Via\Response::status(): code and reason phrase on the wire
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$r = new Via\Response();
var_dump($r->status(404) === $r, $r->getStatus());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $req->path() === '/custom' ? $res->status(299, 'Quite OK') : $res->status(418);
    $res->end();
}, function (int $port): void {
    echo via_get($port, '/custom')[0], "\n";
    echo via_get($port, '/teapot')[0], "\n";
});
?>
--EXPECT--
bool(true)
int(404)
HTTP/1.1 299 Quite OK
HTTP/1.1 418 I'm a teapot
