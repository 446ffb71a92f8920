--TEST--
Via\Request::cookie(): $_COOKIE rules, one cookie with a default
--FILE--
<?php
$r = new Via\Request(['headers' => ['Cookie' => ['a=1; b=x%20y+z', 'a=2; arr[k]=v']]]);
echo json_encode($r->cookie()), "\n";
var_dump($r->cookie('a'), $r->cookie('nope'), $r->cookie('nope', 'd'));
?>
--EXPECT--
{"a":"1","b":"x y+z","arr":{"k":"v"}}
string(1) "1"
NULL
string(1) "d"
