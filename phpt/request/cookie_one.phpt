--TEST--
Via\Request::cookie($name) before the whole array is made: the same value the array has
--FILE--
<?php
$r = new Via\Request(['headers' => ['Cookie' => ['a=1; b=x%20y+z; a=2', ' c.d = 5; e=; 0=zero']]]);
var_dump($r->cookie('a'), $r->cookie('b'), $r->cookie('nope', 'd'), $r->cookie('c.d'), $r->cookie('c_d'), $r->cookie('e'), $r->cookie(0), $r->cookie('0'));
echo json_encode($r->cookie()), "\n";
// A later name with brackets makes an array of the same name.
$r = new Via\Request(['headers' => ['Cookie' => 'a=1; a[k]=v']]);
var_dump($r->cookie('a'));
$r = new Via\Request([]);
var_dump($r->cookie('a'), $r->cookie('a', 'd'));
?>
--EXPECT--
string(1) "1"
string(5) "x y+z"
string(1) "d"
NULL
string(2) " 5"
string(0) ""
string(4) "zero"
string(4) "zero"
{"a":"1","b":"x y+z","c_d":" 5","e":"","0":"zero"}
array(1) {
  ["k"]=>
  string(1) "v"
}
NULL
string(1) "d"
