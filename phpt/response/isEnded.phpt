--TEST--
Via\Response::isEnded(): after end()
--FILE--
<?php
$r = new Via\Response();
$r->write('x');
var_dump($r->isEnded());
$r->end();
var_dump($r->isEnded());
?>
--EXPECT--
bool(false)
bool(true)
