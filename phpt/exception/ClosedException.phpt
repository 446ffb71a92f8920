--TEST--
Via\ClosedException: extends Via\Exception
--FILE--
<?php
$e = new Via\ClosedException('gone');
var_dump($e instanceof Via\Exception, $e instanceof RuntimeException, $e->getMessage());
?>
--EXPECT--
bool(true)
bool(true)
string(4) "gone"
