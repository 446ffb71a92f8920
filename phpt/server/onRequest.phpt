--TEST--
Via\Server::onRequest(): the handler gets a Request and a Response for every request
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
var_dump($server->onRequest(fn() => null) === $server);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->end(get_class($req) . ' ' . get_class($res) . ' ' . $req->path());
}, function (int $port): void {
    echo via_get($port, '/a')[2], "\n";
    echo via_get($port, '/b')[2], "\n";
});
?>
--EXPECT--
bool(true)
Via\Request Via\Response /a
Via\Request Via\Response /b
