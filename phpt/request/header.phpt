--TEST--
Via\Request::header(): case-insensitive, repeated values joined
--FILE--
<?php
$r = new Via\Request(['headers' => ['Accept' => ['text/html', 'application/json'], 'Cookie' => ['a=1', 'b=2'], 'X-Bin' => "\xff"]]);
var_dump($r->header('accept'), $r->header('ACCEPT'), $r->header('cookie'), $r->header('missing'), $r->header('bad name'), bin2hex($r->header('x-bin')));
?>
--EXPECT--
string(27) "text/html, application/json"
string(27) "text/html, application/json"
string(8) "a=1; b=2"
NULL
NULL
string(2) "ff"
