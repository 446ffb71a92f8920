--TEST--
Via\Request::headers(): lower-case names, joined values
--FILE--
<?php
$r = new Via\Request(['headers' => ['Host' => 'example.com', 'X-A' => ['1', '2']]]);
var_dump($r->headers());
?>
--EXPECT--
array(2) {
  ["host"]=>
  string(11) "example.com"
  ["x-a"]=>
  string(4) "1, 2"
}
