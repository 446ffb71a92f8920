--TEST--
Via\Request::post(): urlencoded and multipart bodies in $_POST shape
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$r = new Via\Request(['method' => 'POST', 'headers' => ['Content-Type' => 'application/x-www-form-urlencoded; charset=UTF-8'],
    'body' => 'a=1&list[]=x&list[]=y']);
echo json_encode($r->post()), ' ', $r->post('a'), "\n";
$r = new Via\Request(['method' => 'POST', 'headers' => ['Content-Type' => 'application/json'], 'body' => '{"a":1}']);
echo json_encode($r->post()), "\n";
$r = new Via\Request(['post' => ['given' => 'yes']]);
echo json_encode($r->post()), "\n";
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end(json_encode($req->post())),
    function (int $port): void {
        $b = "--B\r\nContent-Disposition: form-data; name=\"user[name]\"\r\n\r\nAda\r\n--B\r\nContent-Disposition: form-data; name=\"user[tags][]\"\r\n\r\nx\r\n--B--\r\n";
        echo via_parse(via_http($port, "POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: " . strlen($b) . "\r\n\r\n$b"))[2], "\n";
    });
?>
--EXPECT--
{"a":"1","list":["x","y"]} 1
[]
{"given":"yes"}
{"user":{"name":"Ada","tags":["x"]}}
