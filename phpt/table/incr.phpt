--TEST--
Via\Table::incr(): ints and floats, by 1 by default, creating a missing row
--FILE--
<?php
$t = new Via\Table(4, ['n' => Via\Table::INT, 'f' => Via\Table::FLOAT]);
var_dump($t->incr('k', 'n'), $t->incr('k', 'n', 5), $t->incr('k', 'n', -10));
var_dump($t->incr('k', 'f', 0.25), $t->incr('k', 'f', 2));
var_dump($t->get('k'));
?>
--EXPECT--
int(1)
int(6)
int(-4)
float(0.25)
float(2.25)
array(2) {
  ["n"]=>
  int(-4)
  ["f"]=>
  float(2.25)
}
