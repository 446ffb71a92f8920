--TEST--
Via\Server: error_pages replace the runtime's own answers (504, 429, 500) as text/html; a status without a page stays plain text, the application's answers are untouched
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$dir = sys_get_temp_dir() . '/via-pages-' . getmypid();
@mkdir($dir);
file_put_contents("$dir/504.html", "<h1>too slow</h1>\n");
file_put_contents("$dir/429.html", "<h1>slow down</h1>\n");
file_put_contents("$dir/500.html", "<h1>oops</h1>\n");
file_put_contents("$dir/404.html", "<h1>not here</h1>\n");
file_put_contents("$dir/200.html", "never sent\n");
file_put_contents("$dir/notes.txt", "ignored\n");
$show = fn(array $r) => $r[0] . ' | ' . ($r[1]['content-type'][0] ?? '-') . ' | ' . json_encode($r[2]);

$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'error_pages' => $dir, 'request_timeout' => 0.05,
    'max_body_size' => 10, 'rate_limit' => 1, 'rate_limit_burst' => 1]);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    switch ($req->path()) {
        case '/slow':
            Via\sleep(0.1); // past request_timeout: the runtime answers 504
            return;
        case '/unanswered':
            return; // without end(): the runtime answers 500
        case '/throw':
            throw new RuntimeException('boom');
        case '/missing':
            $res->status(404);
            $res->end('app 404');
            return;
    }
    $res->end('ok ' . strlen($req->body()));
}, function (int $port) use ($show): void {
    // Each request from an address of its own, so only the last one meets the rate limit.
    $from = function (string $src, string $raw) use ($port): array {
        $ctx = stream_context_create(['socket' => ['bindto' => "$src:0"]]);
        $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5, STREAM_CLIENT_CONNECT, $ctx);
        stream_set_timeout($s, 5);
        fwrite($s, $raw);
        $out = stream_get_contents($s);
        fclose($s);
        return via_parse($out);
    };
    $get = fn(string $path) => "GET $path HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    echo $show($from('127.0.0.2', $get('/slow'))), "\n";
    echo $show($from('127.0.0.3', $get('/unanswered'))), "\n";
    echo $show($from('127.0.0.6', $get('/throw'))), "\n";
    echo $show($from('127.0.0.7', $get('/missing'))), "\n";
    echo $show($from('127.0.0.4', "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\nConnection: close\r\n\r\n" . str_repeat('x', 100))), "\n";
    echo $show($from('127.0.0.5', $get('/'))), "\n";
    echo $show($from('127.0.0.5', $get('/'))), "\n";
});
foreach (glob("$dir/*") as $f) {
    unlink($f);
}
rmdir($dir);
?>
--EXPECT--
HTTP/1.1 504 Gateway Timeout | text/html; charset=utf-8 | "<h1>too slow<\/h1>\n"
HTTP/1.1 500 Internal Server Error | text/html; charset=utf-8 | "<h1>oops<\/h1>\n"
HTTP/1.1 500 Internal Server Error | text/html; charset=utf-8 | "<h1>oops<\/h1>\n"
HTTP/1.1 404 Not Found | - | "app 404"
HTTP/1.1 413 Payload Too Large | text/plain; charset=utf-8 | "413 Payload Too Large\n"
HTTP/1.1 200 OK | - | "ok 0"
HTTP/1.1 429 Too Many Requests | text/html; charset=utf-8 | "<h1>slow down<\/h1>\n"
