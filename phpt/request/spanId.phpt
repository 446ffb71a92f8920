--TEST--
Via\Request::spanId(): this server's span (16 hex digits), new per request, never the caller's
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
$hex16 = fn(string $s) => preg_match('/^[0-9a-f]{16}$/', $s) === 1 && $s !== '0000000000000000';

$a = new Via\Request();
$b = new Via\Request(['headers' => ['traceparent' => $valid]]);
$c = new Via\Request(['headers' => ['traceparent' => $valid]]);
var_dump($hex16($a->spanId()), $a->spanId() === $a->spanId());
var_dump($hex16($b->spanId()), $b->spanId() !== '00f067aa0ba902b7', $b->spanId() !== $c->spanId());
// A malformed traceparent still gets a span of its own.
foreach (['00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01', 'garbage', ''] as $value) {
    var_dump($hex16((new Via\Request(['headers' => ['traceparent' => $value]]))->spanId()));
}

$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($req->spanId() . ' ' . $req->spanId()),
    function (int $port) use ($valid, $hex16): void {
        [$x, $y] = explode(' ', via_get($port, '/', ['traceparent' => $valid])[2]);
        [$z] = explode(' ', via_get($port, '/', ['traceparent' => $valid])[2]);
        var_dump($hex16($x), $x === $y, $x !== '00f067aa0ba902b7', $x !== $z);
    });
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
