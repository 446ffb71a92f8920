--TEST--
Via\Request::traceId(): the caller's trace from a valid traceparent, else a new one (32 hex digits)
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
$trace = fn(array $headers) => (new Via\Request(['headers' => $headers]))->traceId();

$a = new Via\Request();
$b = new Via\Request();
var_dump(preg_match('/^[0-9a-f]{32}$/', $a->traceId()) === 1, $a->traceId() === $a->traceId(), $a->traceId() !== $b->traceId());
var_dump($trace(['traceparent' => $valid]));
var_dump($trace(['TraceParent' => '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00']));

// Malformed: a new trace (32 lowercase hex digits, not the one given).
foreach ([
    'uppercase' => strtoupper($valid),
    'version ff' => 'ff' . substr($valid, 2),
    'zero trace id' => '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    'zero parent id' => '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    'too long' => $valid . '-01',
    'too short' => substr($valid, 0, 54),
    'short trace id' => '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    'not hex' => '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01',
    'separators' => str_replace('-', '_', $valid),
    'empty' => '',
] as $case => $value) {
    $t = $trace(['traceparent' => $value]);
    echo $case, ': ', preg_match('/^[0-9a-f]{32}$/', $t) && $t !== '4bf92f3577b34da6a3ce929d0e0e4736' ? 'new trace' : "kept $t", "\n";
}

$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($req->traceId() . ' ' . $req->traceId()),
    function (int $port) use ($valid): void {
        echo via_get($port, '/', ['traceparent' => $valid])[2], "\n";
        [$x, $y] = explode(' ', via_get($port, '/')[2]);
        [$z] = explode(' ', via_get($port, '/')[2]);
        echo preg_match('/^[0-9a-f]{32}$/', $x) && $x === $y && $x !== $z ? "new, stable, distinct\n" : "bad: $x $y $z\n";
    });
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
string(32) "4bf92f3577b34da6a3ce929d0e0e4736"
string(32) "4bf92f3577b34da6a3ce929d0e0e4736"
uppercase: new trace
version ff: new trace
zero trace id: new trace
zero parent id: new trace
too long: new trace
too short: new trace
short trace id: new trace
not hex: new trace
separators: new trace
empty: new trace
4bf92f3577b34da6a3ce929d0e0e4736 4bf92f3577b34da6a3ce929d0e0e4736
new, stable, distinct
