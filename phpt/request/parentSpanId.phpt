--TEST--
Via\Request::parentSpanId(): the caller's span from a valid traceparent, else null
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
$parent = fn(array $headers) => (new Via\Request(['headers' => $headers]))->parentSpanId();

var_dump((new Via\Request())->parentSpanId());
var_dump($parent(['traceparent' => $valid]));
var_dump($parent(['traceparent' => '00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-00']));
foreach ([
    strtoupper($valid),
    'ff' . substr($valid, 2),
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1',
    $valid . '0',
    '00-4bf92f3577b34da6a3ce929d0e0e4736',
    '',
] as $value) {
    echo json_encode($value), ' => ', var_export($parent(['traceparent' => $value]), true), "\n";
}

$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, fn(Via\Request $req, Via\Response $res) => $res->end(var_export($req->parentSpanId(), true)),
    function (int $port) use ($valid): void {
        echo via_get($port, '/', ['traceparent' => $valid])[2], "\n";
        echo via_get($port, '/', ['traceparent' => 'bogus'])[2], "\n";
        echo via_get($port, '/')[2], "\n";
    });
?>
--EXPECT--
NULL
string(16) "00f067aa0ba902b7"
string(16) "b7ad6b7169203331"
"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01" => NULL
"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" => NULL
"00-00000000000000000000000000000000-00f067aa0ba902b7-01" => NULL
"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01" => NULL
"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01" => NULL
"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01" => NULL
"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1" => NULL
"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010" => NULL
"00-4bf92f3577b34da6a3ce929d0e0e4736" => NULL
"" => NULL
'00f067aa0ba902b7'
NULL
NULL
