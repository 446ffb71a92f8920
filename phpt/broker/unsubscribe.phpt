--TEST--
Via\Broker::unsubscribe(): removes this broker's callbacks for a topic; false when there were none
--FILE--
<?php
$a = new Via\Broker('memory://');
$b = new Via\Broker('memory://');
$a->subscribe('t', fn ($p) => print("a: $p\n"));
$b->subscribe('t', fn ($p) => print("b: $p\n"));
var_dump($a->unsubscribe('t'), $a->unsubscribe('t'), $a->unsubscribe('never'));
$a->publish('t', 'x');
Via\run();
?>
--EXPECT--
bool(true)
bool(false)
bool(false)
b: x
