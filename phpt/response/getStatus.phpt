--TEST--
Via\Response::getStatus(): 200 until set
--FILE--
<?php
$r = new Via\Response();
var_dump($r->getStatus());
$r->status(503);
var_dump($r->getStatus());
?>
--EXPECT--
int(200)
int(503)
