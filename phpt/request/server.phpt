--TEST--
Via\Request::server(): a $_SERVER-like array
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $s = $req->server();
    unset($s['REMOTE_PORT'], $s['SERVER_PORT']);
    ksort($s);
    $res->end(json_encode($s));
}, function (int $port): void {
    echo via_parse(via_http($port, "POST /p?q=1 HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nX-Custom-Thing: v\r\nConnection: close\r\n\r\nx"))[2], "\n";
});
?>
--EXPECT--
{"CONTENT_LENGTH":"1","CONTENT_TYPE":"text\/plain","HTTP_CONNECTION":"close","HTTP_HOST":"h","HTTP_X_CUSTOM_THING":"v","QUERY_STRING":"q=1","REMOTE_ADDR":"127.0.0.1","REQUEST_METHOD":"POST","REQUEST_URI":"\/p?q=1","SERVER_ADDR":"127.0.0.1","SERVER_PROTOCOL":"HTTP\/1.1"}
