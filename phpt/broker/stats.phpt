--TEST--
Via\Broker::stats(): published by this broker, delivered to its subscriptions, dropped
--FILE--
<?php
$pub = new Via\Broker('memory://');
$sub = new Via\Broker('memory://');
$sub->subscribe('t', fn () => null);
$sub->subscribe('t', fn () => null);
$pub->publish('t', 'x');
$pub->publish('t', 'y');
Via\run();
var_dump($pub->stats(), $sub->stats());
?>
--EXPECT--
array(3) {
  ["published"]=>
  int(2)
  ["delivered"]=>
  int(0)
  ["dropped"]=>
  int(0)
}
array(3) {
  ["published"]=>
  int(0)
  ["delivered"]=>
  int(4)
  ["dropped"]=>
  int(0)
}
