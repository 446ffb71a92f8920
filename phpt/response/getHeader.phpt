--TEST--
Via\Response::getHeader(): values joined, null when absent
--FILE--
<?php
$r = new Via\Response();
$r->header('X-A', '1', false)->header('X-A', '2', false);
var_dump($r->getHeader('X-A'), $r->getHeader('x-none'));
?>
--EXPECT--
string(4) "1, 2"
NULL
