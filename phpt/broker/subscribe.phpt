--TEST--
Via\Broker::subscribe(): several topics and callbacks; $own = false skips this worker's messages
--FILE--
<?php
$b = new Via\Broker('memory://');
$b->subscribe('t', fn ($p) => print("all: $p\n"));
$b->subscribe('t', fn ($p) => print("others only: $p\n"), own: false);
$b->subscribe('u', fn ($p, $topic) => print("$topic: $p\n"));
$b->publish('t', 'mine');
$b->publish('u', 'x');
Via\run();
?>
--EXPECT--
all: mine
u: x
