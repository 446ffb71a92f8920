--TEST--
Via\Server: a handler that returns without end() answers its status, or 500 with a warning
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'warn']);
$kept = null;
via_serve($server, function (Via\Request $req, Via\Response $res) use (&$kept): void {
    switch ($req->path()) {
        case '/status': $res->status(204); return;
        case '/nothing': return;
        case '/exit': exit(3);
        case '/kept':
            $kept = $res; // someone else will answer
            Via\Timer::after(0.01, function () use (&$kept) { $kept->end('later'); $kept = null; });
            return;
    }
}, function (int $port): void {
    echo via_get($port, '/status')[0], "\n";
    echo via_get($port, '/nothing')[0], "\n";
    echo via_get($port, '/exit')[0], "\n";
    echo via_get($port, '/kept')[2], "\n";
});
echo "exit status unchanged\n";
?>
--EXPECTF--
HTTP/1.1 204 No Content
%AWARN  GET /nothing: the handler returned without calling end(); answering 500
HTTP/1.1 500 Internal Server Error
%AWARN  GET /exit: the handler returned without calling end(); answering 500
HTTP/1.1 500 Internal Server Error
later
exit status unchanged
