--TEST--
Via\Server: an answer or an event given before a handler runs on (blocking PHP) leaves at once, with I/O threads, with reactor = php and in a worker
--FILE--
<?php
require __DIR__ . '/../serve.inc';

/** Sends $path; returns the seconds until $want arrived (or null) and the socket. */
function until_seen(int $port, string $path, string $want): array
{
    $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5);
    fwrite($s, "GET $path HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n");
    stream_set_timeout($s, 5);
    $t = microtime(true);
    $got = '';
    while (!str_contains($got, $want) && !feof($s)) {
        $got .= (string) fread($s, 8192);
    }
    return [str_contains($got, $want) ? microtime(true) - $t : null, $s];
}

foreach (['threads' => ['reactor' => 'threads'], 'php' => ['reactor' => 'php'], 'workers' => ['workers' => 2]] as $reactor => $options) {
    $server = new Via\Server('127.0.0.1', 0, $options + ['log_level' => 'off']);
    via_serve($server, function (Via\Request $req, Via\Response $res): void {
        if ($req->path() === '/end-then-work') {
            $res->end('done');
            usleep(800000); // blocks the PHP thread: no yield to the loop
        } elseif ($req->path() === '/event-then-work') {
            $sse = $res->sse();
            $sse->send('first');
            usleep(800000);
            $sse->send('last');
            $sse->close();
        }
    }, function (int $port) use ($reactor): void {
        [$took, $s] = until_seen($port, '/end-then-work', 'done');
        echo "$reactor: answer ", $took !== null && $took < 0.5 ? 'before the handler ended' : 'late: ' . var_export($took, true), "\n";
        fclose($s);
        usleep(900000); // the handler ends
        [$took, $s] = until_seen($port, '/event-then-work', 'data: first');
        echo "$reactor: first event ", $took !== null && $took < 0.5 ? 'before the handler ended' : 'late: ' . var_export($took, true), "\n";
        $rest = stream_get_contents($s);
        echo "$reactor: then ", str_contains($rest, 'data: last') ? 'the last' : 'nothing', "\n";
    });
}
?>
--EXPECT--
threads: answer before the handler ended
threads: first event before the handler ended
threads: then the last
php: answer before the handler ended
php: first event before the handler ended
php: then the last
workers: answer before the handler ended
workers: first event before the handler ended
workers: then the last
