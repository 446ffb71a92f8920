--TEST--
Via\Server: metrics_listen serves health and metrics alone on a listener of its own
--FILE--
<?php
require __DIR__ . '/../serve.inc';
function free_port(): int
{
    $probe = stream_socket_server('tcp://127.0.0.1:0');
    $port = (int) substr(strrchr(stream_socket_get_name($probe, false), ':'), 1);
    fclose($probe);
    return $port;
}
$line = fn(array $r) => $r[0] . ' | ' . ($r[1]['content-type'][0] ?? '-') . ' | ' . json_encode(substr($r[2], 0, 20));
$count = fn(string $metrics) => preg_match('/^via_http_requests_total\{method="GET",code="2xx"\} (\d+)$/m', $metrics, $m) ? (int) $m[1] : 0;

$internal = free_port();
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'metrics_listen' => "127.0.0.1:$internal"]);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end('app ' . $req->path()),
    function (int $port) use ($internal, $line, $count): void {
        echo $line(via_get($internal, '/health')), "\n";
        $metrics = via_get($internal, '/metrics');
        echo $line($metrics), "\n";
        echo $line(via_get($internal, '/other')), "\n";
        echo $line(via_get($internal, '/')), "\n";
        $head = via_http($internal, "HEAD /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        echo strtok($head, "\r"), str_ends_with($head, "\r\n\r\n") ? ', no body' : ', a body', "\n";
        // The public port belongs to the application, /health and /metrics included.
        echo via_get($port, '/health')[2], ', ', via_get($port, '/metrics')[2], "\n";
        echo $count(via_get($internal, '/metrics')[2]) - $count($metrics[2]), "\n";
    });

$internal = free_port();
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'metrics_listen' => "127.0.0.1:$internal",
    'health_path' => '/hz', 'metrics_path' => '/mz']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end('app ' . $req->path()),
    function (int $port) use ($internal, $line): void {
        echo $line(via_get($internal, '/hz')), "\n";
        echo $line(via_get($internal, '/mz')), "\n";
        echo $line(via_get($internal, '/health')), "\n";
        echo via_get($port, '/hz')[2], "\n";
    });
?>
--EXPECT--
HTTP/1.1 200 OK | application/json | "{\"status\":\"ok\"}\n"
HTTP/1.1 200 OK | text/plain; version=0.0.4; charset=utf-8 | "# HELP via_up 1 whil"
HTTP/1.1 404 Not Found | text/plain; charset=utf-8 | "404 Not Found\n"
HTTP/1.1 404 Not Found | text/plain; charset=utf-8 | "404 Not Found\n"
HTTP/1.1 200 OK, no body
app /health, app /metrics
2
HTTP/1.1 200 OK | application/json | "{\"status\":\"ok\"}\n"
HTTP/1.1 200 OK | text/plain; version=0.0.4; charset=utf-8 | "# HELP via_up 1 whil"
HTTP/1.1 404 Not Found | text/plain; charset=utf-8 | "404 Not Found\n"
app /hz
