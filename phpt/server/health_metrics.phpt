--TEST--
Via\Server: health_path and metrics_path are answered by the runtime on the public port
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'health_path' => '/healthz', 'metrics_path' => '/metricz']);
$seen = []; // the paths PHP saw
via_serve($server, function (Via\Request $req, Via\Response $res) use (&$seen): void {
    if ($req->path() === '/php') {
        $res->end(implode(' ', $seen));
        return;
    }
    $seen[] = $req->path();
    $res->status($req->path() === '/missing' ? 404 : 200);
    $res->end('app');
}, function (int $port): void {
    [$status, $h, $body] = via_get($port, '/healthz');
    echo "$status | {$h['content-type'][0]} | {$h['cache-control'][0]} | ", json_encode($body), "\n";
    [$status, $h, $metrics] = via_get($port, '/metricz');
    echo "$status | {$h['content-type'][0]}\n";
    $count = function (string $metrics, string $series): int {
        return preg_match('/^' . preg_quote($series, '/') . ' (\d+)$/m', $metrics, $m) ? (int) $m[1] : 0;
    };
    echo preg_match('/^via_up 1$/m', $metrics), preg_match('/^# TYPE via_http_requests_total counter$/m', $metrics),
        preg_match('/^# TYPE via_http_request_duration_seconds histogram$/m', $metrics), "\n";
    $ok = 'via_http_requests_total{method="GET",code="2xx"}';
    $missing = 'via_http_requests_total{method="GET",code="4xx"}';
    $before = [$count($metrics, $ok), $count($metrics, $missing)];

    echo via_get($port, '/app')[2], ' ', via_get($port, '/missing')[0], "\n";
    echo via_parse(via_http($port, "POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))[2];
    echo via_get($port, '/healthz/')[2], ' ', via_get($port, '/metricz/x')[2], "\n"; // other paths reach PHP

    $metrics = via_get($port, '/metricz')[2];
    // Since the first scrape: the scrape itself, /app, /healthz/, /metricz/x (2xx); /missing (4xx).
    echo $count($metrics, $ok) - $before[0], ' ', $count($metrics, $missing) - $before[1], ' ',
        $count($metrics, 'via_http_requests_total{method="POST",code="2xx"}'), "\n";
    echo preg_match('/^via_http_request_duration_seconds_count (\d+)$/m', $metrics, $m) && $m[1] >= 7 ? "histogram counts\n" : "histogram: $metrics\n";
    echo via_get($port, '/php')[2], "\n";
});
?>
--EXPECT--
HTTP/1.1 200 OK | application/json | no-store | "{\"status\":\"ok\"}\n"
HTTP/1.1 200 OK | text/plain; version=0.0.4; charset=utf-8
111
app HTTP/1.1 404 Not Found
{"status":"ok"}
app app
4 1 1
histogram counts
/app /missing /healthz/ /metricz/x
