--TEST--
Via\Response::sse(): event-stream headers, sent at once, with a retry hint
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$res = new Via\Response();
$sse = $res->sse(2500);
var_dump(get_class($sse), $res->headersSent(), $res->getHeaders(), $res->getBody());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false]);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->sse();
    Via\sleep(0.2);
}, function (int $port): void {
    $s = stream_socket_client("tcp://127.0.0.1:$port");
    fwrite($s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    $head = fread($s, 4096); // arrives before the handler ends
    foreach (['HTTP/1.1 200 OK', 'content-type: text/event-stream', 'cache-control: no-cache', 'x-accel-buffering: no', 'transfer-encoding: chunked'] as $line) {
        echo str_contains($head, $line) ? "has $line\n" : "missing $line\n";
    }
});
?>
--EXPECT--
string(7) "Via\SSE"
bool(true)
array(3) {
  ["content-type"]=>
  array(1) {
    [0]=>
    string(17) "text/event-stream"
  }
  ["cache-control"]=>
  array(1) {
    [0]=>
    string(8) "no-cache"
  }
  ["x-accel-buffering"]=>
  array(1) {
    [0]=>
    string(2) "no"
  }
}
string(13) "retry: 2500

"
has HTTP/1.1 200 OK
has content-type: text/event-stream
has cache-control: no-cache
has x-accel-buffering: no
has transfer-encoding: chunked
