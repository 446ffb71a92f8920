--TEST--
Via\Server::subscribers() (with SSE::join(), publish())
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false]);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($server): void {
    if ($req->path() === '/publish') {
        $res->end(json_encode([$server->subscribers('news'), $server->publish('news', "breaking\nnews", 'headline', '1')]));
        return;
    }
    $res->sse()->join('news')->join('news');
}, function (int $port): void {
    $clients = [];
    for ($i = 0; $i < 3; $i++) {
        $s = stream_socket_client("tcp://127.0.0.1:$port");
        fwrite($s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        fread($s, 4096);
        $clients[] = $s;
    }
    echo via_get($port, '/publish')[2], "\n";
    foreach ($clients as $s) {
        $chunk = fread($s, 4096);
        echo substr_count($chunk, "event: headline\nid: 1\ndata: breaking\ndata: news\n\n"), ' ';
    }
    echo "\n";
});
?>
--EXPECT--
[3,3]
1 1 1
