--TEST--
Via\Server: trusted_proxies let X-Forwarded-For or X-Real-IP name the client (remoteAddress(), port 0)
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$handler = fn(Via\Request $req, Via\Response $res) => $res->end($req->remoteAddress() . ' ' . ($req->remotePort() > 0 ? 'port' : $req->remotePort()));
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'trusted_proxies' => '127.0.0.1, 10.0.0.0/8, ::1']);
via_serve($server, $handler, function (int $port): void {
    foreach ([
        [],
        ['X-Forwarded-For' => '203.0.113.7'],
        ['X-Forwarded-For' => '203.0.113.7, 10.1.2.3'],                // past a trusted proxy
        ['X-Forwarded-For' => '198.51.100.1, 203.0.113.7, 10.1.2.3'],  // a client cannot pick its address
        ['X-Forwarded-For' => '10.9.9.9, 10.1.2.3'],                   // all trusted: the leftmost
        ['X-Forwarded-For' => '203.0.113.7:5555'],
        ['X-Forwarded-For' => '[2001:db8::1]:443'],
        ['X-Forwarded-For' => '2001:db8::1'],
        ['X-Forwarded-For' => '::ffff:203.0.113.9'],
        ['X-Forwarded-For' => 'garbage'],                              // not an address: the peer
        ['X-Forwarded-For' => 'garbage, 10.1.2.3'],                    // the walk ends at garbage
        ['X-Real-IP' => '203.0.113.8'],
        ['X-Real-IP' => 'garbage'],
        ['X-Forwarded-For' => '203.0.113.7', 'X-Real-IP' => '203.0.113.8'],
    ] as $headers) {
        echo json_encode($headers), ' => ', via_get($port, '/', $headers)[2], "\n";
    }
    // Repeated headers are one list, walked from the right.
    $raw = "GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.1\r\nConnection: close\r\n\r\n";
    echo 'two headers => ', via_parse(via_http($port, $raw))[2], "\n";
});

// A peer that is not trusted: the headers are ignored.
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'trusted_proxies' => '10.0.0.0/8']);
via_serve($server, $handler, function (int $port): void {
    echo 'untrusted => ', via_get($port, '/', ['X-Forwarded-For' => '203.0.113.7', 'X-Real-IP' => '203.0.113.8'])[2], "\n";
});
// Without trusted_proxies nobody is trusted.
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, $handler, function (int $port): void {
    echo 'no proxies => ', via_get($port, '/', ['X-Forwarded-For' => '203.0.113.7'])[2], "\n";
});
?>
--EXPECT--
[] => 127.0.0.1 port
{"X-Forwarded-For":"203.0.113.7"} => 203.0.113.7 0
{"X-Forwarded-For":"203.0.113.7, 10.1.2.3"} => 203.0.113.7 0
{"X-Forwarded-For":"198.51.100.1, 203.0.113.7, 10.1.2.3"} => 203.0.113.7 0
{"X-Forwarded-For":"10.9.9.9, 10.1.2.3"} => 10.9.9.9 0
{"X-Forwarded-For":"203.0.113.7:5555"} => 203.0.113.7 0
{"X-Forwarded-For":"[2001:db8::1]:443"} => 2001:db8::1 0
{"X-Forwarded-For":"2001:db8::1"} => 2001:db8::1 0
{"X-Forwarded-For":"::ffff:203.0.113.9"} => 203.0.113.9 0
{"X-Forwarded-For":"garbage"} => 127.0.0.1 port
{"X-Forwarded-For":"garbage, 10.1.2.3"} => 10.1.2.3 0
{"X-Real-IP":"203.0.113.8"} => 203.0.113.8 0
{"X-Real-IP":"garbage"} => 127.0.0.1 port
{"X-Forwarded-For":"203.0.113.7","X-Real-IP":"203.0.113.8"} => 203.0.113.7 0
two headers => 203.0.113.7 0
untrusted => 127.0.0.1 port
no proxies => 127.0.0.1 port
