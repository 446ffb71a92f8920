--TEST--
Via\Request::requestId(): the client's X-Request-Id when it is a short token, else the trace id
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$id = fn(array $headers) => (new Via\Request(['headers' => $headers]))->requestId();

$r = new Via\Request();
var_dump($r->requestId() === $r->traceId());
$r = new Via\Request(['headers' => ['traceparent' => '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']]);
var_dump($r->requestId());
var_dump($id(['X-Request-Id' => 'req-42']));
var_dump($id(['x-request-id' => 'A-z_0.9:+/=@']));
var_dump($id(['X-Request-Id' => '550e8400-e29b-41d4-a716-446655440000']));
var_dump(strlen($id(['X-Request-Id' => str_repeat('a', 128)])));
var_dump($id(['X-Request-Id' => '7']));
// Not a short token: the trace id instead.
foreach ([
    'empty' => '',
    '129 characters' => str_repeat('a', 129),
    'space' => 'a b',
    'tab' => "a\tb",
    'comma' => 'a,b',
    'semicolon' => 'a;b',
    'quote' => '"q"',
    'backslash' => 'a\\b',
    'non-ASCII' => 'café',
] as $case => $value) {
    $r = new Via\Request(['headers' => ['X-Request-Id' => $value]]);
    echo $case, ': ', $r->requestId() === $r->traceId() ? 'trace id' : 'kept ' . json_encode($r->requestId()), "\n";
}

$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end($req->requestId() === $req->traceId() ? 'trace id' : $req->requestId()),
    function (int $port): void {
        echo via_get($port, '/', ['X-Request-Id' => 'abc-123'])[2], "\n";
        echo via_get($port, '/', ['X-Request-Id' => 'has space'])[2], "\n";
        echo via_get($port, '/', ['X-Request-Id' => str_repeat('x', 129)])[2], "\n";
        echo via_get($port, '/')[2], "\n";
    });
?>
--EXPECT--
bool(true)
string(32) "4bf92f3577b34da6a3ce929d0e0e4736"
string(6) "req-42"
string(12) "A-z_0.9:+/=@"
string(36) "550e8400-e29b-41d4-a716-446655440000"
int(128)
string(1) "7"
empty: trace id
129 characters: trace id
space: trace id
tab: trace id
comma: trace id
semicolon: trace id
quote: trace id
backslash: trace id
non-ASCII: trace id
abc-123
trace id
trace id
trace id
