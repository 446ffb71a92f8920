--TEST--
Via\Response::isWritable(): false after end() and once the request timed out (504)
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$r = new Via\Response();
var_dump($r->isWritable());
$r->end();
var_dump($r->isWritable());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'request_timeout' => 0.1]);
$result = new Via\Channel(1);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($result): void {
    if ($req->path() === '/result') {
        $res->end((string) $result->pop(5.0));
        return;
    }
    $before = $res->isWritable();
    Via\sleep(0.3);
    $result->push(json_encode([$before, $res->isWritable(), $res->end('too late')]));
}, function (int $port): void {
    echo via_get($port, '/slow')[0], "\n";
    usleep(400000); // the handler finishes its sleep meanwhile
    echo via_get($port, '/result')[2], "\n";
});
?>
--EXPECT--
bool(true)
bool(false)
HTTP/1.1 504 Gateway Timeout
[true,false,false]
