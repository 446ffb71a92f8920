--TEST--
Via\Server: access_log appends one line per request (json, combined, common) with the ids PHP sees
--FILE--
<?php
require __DIR__ . '/../serve.inc';
/** The log's lines once it has $n of them (the log is written by a thread of its own). */
function log_lines(string $file, int $n): array
{
    $deadline = microtime(true) + 5;
    while (substr_count($text = (string) file_get_contents($file), "\n") < $n && microtime(true) < $deadline) {
        usleep(5000);
    }
    return explode("\n", rtrim($text, "\n"));
}
$handler = function (Via\Request $req, Via\Response $res): void {
    $res->status(201);
    $res->end(json_encode([$req->traceId(), $req->spanId(), $req->requestId()]));
};
$traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

$log = tempnam(sys_get_temp_dir(), 'via-log');
file_put_contents($log, "kept\n");
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'access_log' => $log, 'access_log_format' => 'json']);
via_serve($server, $handler, function (int $port) use ($traceparent, $log): void {
    $seen = [];
    $seen[] = via_get($port, '/a?b=1', ['X-Request-Id' => 'req-1', 'User-Agent' => 'ua "x"', 'Referer' => 'http://r/'])[2];
    $seen[] = via_get($port, '/c', ['traceparent' => $traceparent])[2];
    $seen[] = via_parse(via_http($port, "POST /p HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"))[2];
    file_put_contents($log . '.seen', json_encode($seen)); // the client is a child process
});
$seen = json_decode(file_get_contents("$log.seen"), true);
$lines = log_lines($log, 5);
echo $lines[0], "\n";
foreach (array_slice($lines, 1, 3) as $i => $line) {
    $e = json_decode($line, true);
    [$trace, $span, $requestId] = json_decode($seen[$i]);
    echo implode(' ', [$e['remote_addr'], $e['method'], $e['uri'], $e['protocol'], $e['status'],
        $e['bytes'] === strlen($seen[$i]) ? 'bytes' : "bytes {$e['bytes']}",
        json_encode($e['referer']), json_encode($e['user_agent']), $e['request_id'] === $requestId ? 'request_id' : 'other request_id',
        $e['trace_id'] === $trace ? 'trace_id' : 'other trace_id', $e['span_id'] === $span ? 'span_id' : 'other span_id',
        preg_match('/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/', $e['time']) ? 'time' : "time {$e['time']}",
        is_float($e['duration_ms']) || is_int($e['duration_ms']) ? 'duration_ms' : 'no duration_ms']), "\n";
}
$seen = array_map('json_decode', $seen);
echo $seen[0][2], ' ', $seen[1][0], ' ', $seen[1][2] === $seen[1][0] ? 'trace id as request id' : 'other', "\n";
echo json_decode($lines[4], true)['uri'], ' ', count($lines), "\n";
unlink($log);
unlink("$log.seen");

foreach (['combined', 'common'] as $format) {
    $log = tempnam(sys_get_temp_dir(), 'via-log');
    $server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'access_log' => $log, 'access_log_format' => $format]);
    via_serve($server, $handler, function (int $port) use ($traceparent): void {
        via_get($port, '/x?y', ['X-Request-Id' => 'rid', 'User-Agent' => 'ua "x"', 'Referer' => 'http://r/', 'traceparent' => $traceparent]);
    });
    echo preg_replace(['/\[[^\]]+\]/', '/-[0-9a-f]{16}-/'], ['[TIME]', '-SPAN-'], log_lines($log, 2)[0]), "\n";
    unlink($log);
}
?>
--EXPECT--
kept
127.0.0.1 GET /a?b=1 HTTP/1.1 201 bytes "http:\/\/r\/" "ua \"x\"" request_id trace_id span_id time duration_ms
127.0.0.1 GET /c HTTP/1.1 201 bytes null null request_id trace_id span_id time duration_ms
127.0.0.1 POST /p HTTP/1.0 201 bytes null null request_id trace_id span_id time duration_ms
req-1 4bf92f3577b34da6a3ce929d0e0e4736 trace id as request id
/__stop 5
127.0.0.1 - - [TIME] "GET /x?y HTTP/1.1" 201 61 "http://r/" "ua \x22x\x22" "rid" "00-4bf92f3577b34da6a3ce929d0e0e4736-SPAN-01"
127.0.0.1 - - [TIME] "GET /x?y HTTP/1.1" 201 61
