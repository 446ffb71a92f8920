--TEST--
Via\Timer: static only
--FILE--
<?php
$r = new ReflectionClass(Via\Timer::class);
var_dump($r->isFinal());
?>
--EXPECT--
bool(true)
