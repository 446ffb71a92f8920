--TEST--
Via\Channel::isClosed()
--FILE--
<?php
$ch = new Via\Channel();
var_dump($ch->isClosed());
$ch->close();
var_dump($ch->isClosed());
?>
--EXPECT--
bool(false)
bool(true)
