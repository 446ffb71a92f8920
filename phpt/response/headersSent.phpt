--TEST--
Via\Response::headersSent(): after the first write()
--FILE--
<?php
$r = new Via\Response();
var_dump($r->headersSent());
$r->write('x');
var_dump($r->headersSent());
?>
--EXPECT--
bool(false)
bool(true)
