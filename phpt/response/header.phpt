--TEST--
Via\Response::header(): set, replace, add repeated values
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->header('X-One', 'a')->header('x-one', 'b');
    $res->header('X-Many', '1', false)->header('X-Many', '2', false);
    $res->header('Set-Cookie', 'a=1', false)->header('Set-Cookie', 'b=2', false);
    $res->end();
}, function (int $port): void {
    $h = via_get($port, '/')[1];
    echo json_encode([$h['x-one'], $h['x-many'], $h['set-cookie']]), "\n";
});
?>
--EXPECT--
[["b"],["1","2"],["a=1","b=2"]]
