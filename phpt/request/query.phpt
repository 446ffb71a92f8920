--TEST--
Via\Request::query(): PHP array syntax, one key with a default
--FILE--
<?php
$r = new Via\Request(['uri' => '/?a[]=1&a[]=2&b[x][y]=3&c=hello+world&d.e=4&5=five&empty']);
echo json_encode($r->query()), "\n";
var_dump($r->query('c'), $r->query('missing'), $r->query('missing', 'def'), $r->query(5), $r->query('5'));
?>
--EXPECT--
{"a":["1","2"],"b":{"x":{"y":"3"}},"c":"hello world","d_e":"4","5":"five","empty":""}
string(11) "hello world"
NULL
string(3) "def"
string(4) "five"
string(4) "five"
