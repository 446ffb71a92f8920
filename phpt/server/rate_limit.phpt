--TEST--
Via\Server: rate_limit and rate_limit_burst answer 429 with Retry-After per client address
--FILE--
<?php
require __DIR__ . '/../serve.inc';
/** GET from the source address $src (127.0.0.2 is a client of its own, also loopback). */
function get_from(string $src, int $port, string $path): array
{
    $ctx = stream_context_create(['socket' => ['bindto' => "$src:0"]]);
    $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5, STREAM_CLIENT_CONNECT, $ctx);
    if (!$s) {
        return ["connect failed: $errstr", [], ''];
    }
    stream_set_timeout($s, 5);
    fwrite($s, "GET $path HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    $raw = stream_get_contents($s);
    fclose($s);
    return via_parse($raw);
}
$show = fn(array $r) => $r[0] . ' | ' . ($r[1]['retry-after'][0] ?? '-') . ' | ' . ($r[1]['content-type'][0] ?? '-') . ' | ' . json_encode($r[2]);

$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'rate_limit' => 1, 'rate_limit_burst' => 2]);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($server): void {
    $res->end($req->remoteAddress() . ' rate_limited=' . $server->stats()['rate_limited']);
}, function (int $port) use ($show): void {
    for ($i = 1; $i <= 4; $i++) {
        echo $i, ': ', $show(get_from('127.0.0.2', $port, '/')), "\n";
    }
    // Another client has a bucket of its own.
    echo $show(get_from('127.0.0.1', $port, '/')), "\n";
});

// A fractional rate: one request every 2 seconds.
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'rate_limit' => 0.5]);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end('ok'), function (int $port) use ($show): void {
    echo $show(get_from('127.0.0.2', $port, '/')), "\n";
    echo $show(get_from('127.0.0.2', $port, '/')), "\n";
});
?>
--EXPECT--
1: HTTP/1.1 200 OK | - | - | "127.0.0.2 rate_limited=0"
2: HTTP/1.1 200 OK | - | - | "127.0.0.2 rate_limited=0"
3: HTTP/1.1 429 Too Many Requests | 1 | text/plain; charset=utf-8 | "429 Too Many Requests\n"
4: HTTP/1.1 429 Too Many Requests | 1 | text/plain; charset=utf-8 | "429 Too Many Requests\n"
HTTP/1.1 200 OK | - | - | "127.0.0.1 rate_limited=2"
HTTP/1.1 200 OK | - | - | "ok"
HTTP/1.1 429 Too Many Requests | 2 | text/plain; charset=utf-8 | "429 Too Many Requests\n"
