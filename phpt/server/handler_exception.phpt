--TEST--
Via\Server: an exception in a handler is logged and answered 500; the server keeps serving
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'error']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    if ($req->path() === '/boom') {
        throw new LogicException('boom');
    }
    if ($req->path() === '/half') {
        $res->status(201);
        throw new LogicException('after status');
    }
    $res->end('fine');
}, function (int $port): void {
    echo via_get($port, '/boom')[0], "\n";
    echo via_get($port, '/half')[0], "\n";
    echo via_get($port, '/ok')[2], "\n";
});
?>
--EXPECTF--
%AERROR GET /boom: the handler threw LogicException: boom in %s
Stack trace:
%A
HTTP/1.1 500 Internal Server Error
%AERROR GET /half: the handler threw LogicException: after status in %s
Stack trace:
%A
HTTP/1.1 500 Internal Server Error
fine
