--TEST--
Via\Response::getBody(): what a detached response was given
--FILE--
<?php
$r = new Via\Response();
$r->write('a');
$r->write('b');
$r->end('c');
var_dump($r->getBody());
?>
--EXPECT--
string(3) "abc"
