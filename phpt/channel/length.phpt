--TEST--
Via\Channel::length(): queued values
--FILE--
<?php
$ch = new Via\Channel(3);
var_dump($ch->length());
$ch->push(1); $ch->push(2);
var_dump($ch->length());
$ch->pop();
var_dump($ch->length());
?>
--EXPECT--
int(0)
int(2)
int(1)
