--TEST--
Via\Channel::isEmpty(), isFull()
--FILE--
<?php
$ch = new Via\Channel(1);
var_dump($ch->isEmpty(), $ch->isFull());
$ch->push(1);
var_dump($ch->isEmpty(), $ch->isFull());
?>
--EXPECT--
bool(true)
bool(false)
bool(false)
bool(true)
