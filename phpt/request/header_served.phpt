--TEST--
Via\Request header getters on a request read from the wire: the same answers before and after headers() (which builds the map)
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $look = fn() => [
        $req->header('x-a'), $req->header('X-A'), $req->headerValues('X-a'),
        $req->hasHeader('X-B'), $req->header('x-b'), $req->hasHeader('x-absent'), $req->hasHeader('bad name'),
        $req->header('cookie'), $req->cookie('b'), $req->host(), $req->server()['HTTP_X_A'],
    ];
    $before = $look();
    $all = $req->headers();
    $res->end(json_encode([$before === $look(), $before, $all]));
}, function (int $port): void {
    $raw = "GET /h HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nx-a: 2\r\nCookie: a=1\r\ncookie: b=2\r\nX-B: \r\nConnection: close\r\n\r\n";
    [$same, $values, $all] = json_decode(via_parse(via_http($port, $raw))[2], true);
    var_dump($same);
    echo json_encode($values), "\n", json_encode($all), "\n";
});
?>
--EXPECT--
bool(true)
["1, 2","1, 2",["1","2"],true,"",false,false,"a=1; b=2","2","t","1, 2"]
{"host":"t","x-a":"1, 2","cookie":"a=1; b=2","x-b":"","connection":"close"}
