--TEST--
Via\Request::path() (with target(), queryString()): the request target as sent
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->end(json_encode([$req->target(), $req->path(), $req->queryString()]));
}, function (int $port): void {
    echo via_get($port, '/a%20b/c?x=1&y=%2F')[2], "\n";
    echo via_get($port, '/plain')[2], "\n";
});
?>
--EXPECT--
["\/a%20b\/c?x=1&y=%2F","\/a%20b\/c","x=1&y=%2F"]
["\/plain","\/plain",""]
