--TEST--
Via\Response::removeHeader(): removes every value
--FILE--
<?php
$r = new Via\Response();
$r->header('X-A', '1', false)->header('X-A', '2', false)->header('X-B', '3');
var_dump($r->removeHeader('x-a') === $r, array_keys($r->getHeaders()));
?>
--EXPECT--
bool(true)
array(1) {
  [0]=>
  string(3) "x-b"
}
