--TEST--
Via\Broker::__construct(): memory:// buses by name, workers:// in one process, max_payload
--FILE--
<?php
$a = new Via\Broker('memory://');
$b = new Via\Broker('memory://');
$other = new Via\Broker('memory://elsewhere');
$w = new Via\Broker('workers://?max_payload=10');
$got = [];
$b->subscribe('t', function ($payload) use (&$got) { $got[] = "b:$payload"; });
$other->subscribe('t', function ($payload) use (&$got) { $got[] = "other:$payload"; });
$w->subscribe('t', function ($payload) use (&$got) { $got[] = "w:$payload"; });
$a->publish('t', 'one');
$w->publish('t', 'two');
Via\run();
var_dump($got);
try {
    $w->publish('t', str_repeat('x', 11));
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
}
?>
--EXPECT--
array(2) {
  [0]=>
  string(5) "b:one"
  [1]=>
  string(5) "w:two"
}
Via\Broker::publish(): Argument #2 ($payload) is 11 bytes, over the broker's max_payload of 10
