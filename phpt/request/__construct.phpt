--TEST--
Via\Request::__construct(): a request built from plain values, for tests
--FILE--
<?php
$r = new Via\Request();
var_dump($r->method(), $r->target(), $r->protocolVersion(), $r->host(), $r->body());
$r = new Via\Request([
    'method' => 'QUERY', 'uri' => '/search?q=1', 'protocol' => '2',
    'headers' => ['Content-Type' => 'text/plain', 'X-Multi' => ['a', 'b']],
    'body' => "bin\0ary", 'remote_addr' => '10.0.0.7', 'remote_port' => 4321, 'scheme' => 'https',
]);
var_dump($r->method(), $r->path(), $r->protocolVersion(), $r->header('x-multi'), strlen($r->body()),
    $r->remoteAddress(), $r->remotePort(), $r->scheme());
?>
--EXPECT--
string(3) "GET"
string(1) "/"
string(3) "1.1"
string(9) "localhost"
string(0) ""
string(5) "QUERY"
string(7) "/search"
string(1) "2"
string(4) "a, b"
int(7)
string(8) "10.0.0.7"
int(4321)
string(5) "https"
