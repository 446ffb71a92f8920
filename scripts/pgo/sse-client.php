<?php
// PGO training client for event streams (scripts/pgo/train.sh): opens N streams to
// scripts/pgo/app.php (every other one asking for Brotli), publishes R rounds in the given
// mode (topic or loop), reads every stream while it does, and exits 0 once each plain
// stream has seen the last round; 1 on any failure (a refused connection or request, a
// closed stream) or after 60 s.
// Usage: php sse-client.php PORT STREAMS ROUNDS topic|loop
declare(strict_types=1);

[, $port, $streams, $rounds, $mode] = $argv + [null, 8080, 200, 50, 'topic'];
$port = (int) $port;
$streams = (int) $streams;
$rounds = (int) $rounds;
$deadline = microtime(true) + 60;

function fail(string $why): never
{
    fwrite(STDERR, "sse-client: $why\n");
    exit(1);
}

function get(int $port, string $path): string
{
    $body = @file_get_contents("http://127.0.0.1:$port$path");
    return $body === false ? fail("GET $path failed") : $body;
}

$sockets = [];
$plain = [];
for ($i = 0; $i < $streams; $i++) {
    $s = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 5);
    if ($s === false) {
        fail("connect: $error");
    }
    $encoding = $i % 2 ? "Accept-Encoding: br\r\n" : '';
    fwrite($s, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n$encoding\r\n");
    stream_set_blocking($s, false);
    $sockets[(int) $s] = $s;
    if (!($i % 2)) {
        $plain[(int) $s] = '';
    }
}
while ((int) get($port, '/count') < $streams) {
    if (microtime(true) > $deadline) {
        fail('the streams did not all join');
    }
    usleep(10_000);
}

$last = "data: r$rounds\n";
$published = 0;
while ($plain) {
    if ($published < $rounds) {
        $published++;
        get($port, "/publish?round=r$published&mode=$mode");
    }
    $read = array_values($sockets);
    $write = $except = null;
    if (stream_select($read, $write, $except, 0, 20_000) === false) {
        fail('select failed');
    }
    foreach ($read as $s) {
        $i = (int) $s;
        $chunk = fread($s, 65536);
        if ($chunk === '' || $chunk === false) {
            if (feof($s)) {
                fail("stream $i closed");
            }
            continue;
        }
        if (isset($plain[$i])) {
            // Keep a tail long enough to find the last round's line across reads.
            $seen = substr($plain[$i] . $chunk, -256);
            if (str_contains($seen, $last)) {
                unset($plain[$i]);
            } else {
                $plain[$i] = $seen;
            }
        }
    }
    if (microtime(true) > $deadline) {
        fail(count($plain) . ' plain streams missed the last round');
    }
}
foreach ($sockets as $s) {
    fclose($s);
}
echo "sse-client: $streams streams, $rounds rounds ($mode)\n";
