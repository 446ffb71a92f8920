--TEST--
Via\Request::files(): uploads in $_FILES shape, spooled to temp files removed after the request
--FILE--
<?php
require __DIR__ . '/../serve.inc';
var_dump((new Via\Request())->files());
echo json_encode((new Via\Request(['files' => ['f' => ['name' => 'x']]]))->files()), "\n";
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$seen = null;
via_serve($server, function (Via\Request $req, Via\Response $res) use (&$seen): void {
    $f = $req->files();
    $seen = $f['doc']['tmp_name'];
    $res->end(json_encode([
        $f['doc']['name'], $f['doc']['full_path'], $f['doc']['type'], $f['doc']['error'], $f['doc']['size'],
        file_get_contents($f['doc']['tmp_name']), $f['many']['name'], $f['empty']['error'],
    ]));
}, function (int $port): void {
    $b = "--B\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"dir/a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
       . "--B\r\nContent-Disposition: form-data; name=\"many[]\"; filename=\"1.bin\"\r\n\r\n\x00\x01\r\n"
       . "--B\r\nContent-Disposition: form-data; name=\"many[]\"; filename=\"2.bin\"\r\n\r\nzz\r\n"
       . "--B\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n\r\n\r\n--B--\r\n";
    echo via_parse(via_http($port, "POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: " . strlen($b) . "\r\n\r\n$b"))[2], "\n";
});
var_dump(is_string($seen) && !file_exists($seen));
?>
--EXPECT--
array(0) {
}
{"f":{"name":"x"}}
["a.txt","dir\/a.txt","text\/plain",0,5,"hello",["1.bin","2.bin"],4]
bool(true)
