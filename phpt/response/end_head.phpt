--TEST--
Via\Response::end() answering HEAD: no body; the Content-Length PHP declared stays when no body was given, else the body's length counts
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->header('Content-Length', '1234'); // what a GET of the resource would send
    $res->end($req->path() === '/with-body' ? 'hello' : null);
}, function (int $port): void {
    foreach (['/declared', '/with-body'] as $path) {
        $raw = via_http($port, "HEAD $path HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        [$s, $h, $b] = via_parse($raw);
        echo "$path: $s, content-length ", implode(',', $h['content-length'] ?? ['none']), ", body '", $b, "'\n";
    }
    [$s, $h, $b] = via_get($port, '/declared');
    echo "GET /declared: content-length ", $h['content-length'][0], "\n";
});
?>
--EXPECT--
/declared: HTTP/1.1 200 OK, content-length 1234, body ''
/with-body: HTTP/1.1 200 OK, content-length 5, body ''
GET /declared: content-length 0
