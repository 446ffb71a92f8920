--TEST--
Via\Request::headerValues(): every value of a header, in order
--FILE--
<?php
$r = new Via\Request(['headers' => ['X-A' => ['1', '2', '3']]]);
var_dump($r->headerValues('x-a'), $r->headerValues('none'));
?>
--EXPECT--
array(3) {
  [0]=>
  string(1) "1"
  [1]=>
  string(1) "2"
  [2]=>
  string(1) "3"
}
array(0) {
}
