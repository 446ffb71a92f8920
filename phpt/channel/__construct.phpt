--TEST--
Via\Channel::__construct(): capacity, 1 by default
--FILE--
<?php
var_dump((new Via\Channel())->capacity(), (new Via\Channel(50))->capacity());
?>
--EXPECT--
int(1)
int(50)
