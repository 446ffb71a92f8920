--TEST--
Via\Request::traceparent(): "00-<trace>-<this span>-<flags>" for calls the request makes
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
$check = function (Via\Request $r): string {
    $tp = $r->traceparent();
    if ($tp !== "00-{$r->traceId()}-{$r->spanId()}-" . substr($tp, -2) || !preg_match('/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/', $tp)) {
        return "bad: $tp";
    }
    return 'flags ' . substr($tp, -2) . ($r->parentSpanId() === null ? ', new trace' : ', continued');
};

echo $check(new Via\Request()), "\n";
$r = new Via\Request(['headers' => ['traceparent' => $valid]]);
echo $check($r), "\n";
var_dump(str_starts_with($r->traceparent(), '00-4bf92f3577b34da6a3ce929d0e0e4736-'), $r->traceparent() !== $valid,
    $r->traceparent() === $r->traceparent());
// The caller's sampled flag is kept; the other bits are reserved and sent as zero.
echo $check(new Via\Request(['headers' => ['traceparent' => '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00']])), "\n";
echo $check(new Via\Request(['headers' => ['traceparent' => '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09']])), "\n";
// Malformed: a new trace, flags 00.
foreach ([
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0G',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-FF',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-0000000000000000-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like',
    'not a traceparent',
] as $value) {
    echo $check(new Via\Request(['headers' => ['traceparent' => $value]])), "\n";
}

$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($check($req) . ' ' . $req->traceparent()),
    function (int $port) use ($valid): void {
        $body = via_get($port, '/', ['traceparent' => $valid])[2];
        echo preg_replace('/ 00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/', ' same trace', $body), "\n";
        echo explode(' 00-', via_get($port, '/')[2])[0], "\n";
    });
?>
--EXPECT--
flags 00, new trace
flags 01, continued
bool(true)
bool(true)
bool(true)
flags 00, continued
flags 01, continued
flags 00, new trace
flags 00, new trace
flags 00, new trace
flags 00, new trace
flags 00, new trace
flags 00, new trace
flags 01, continued same trace
flags 00, new trace
