--TEST--
Via\Channel::capacity(): as constructed
--FILE--
<?php
var_dump((new Via\Channel(7))->capacity());
?>
--EXPECT--
int(7)
