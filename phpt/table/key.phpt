--TEST--
Via\TableIterator::key(): driving the iterator by hand
--FILE--
<?php
$t = new Via\Table(2, ['n' => Via\Table::INT]);
$t->set('only', ['n' => 5]);
$it = $t->getIterator();
$it->rewind();
var_dump($it->valid(), $it->key(), $it->current());
$it->next();
var_dump($it->valid(), $it->key(), $it->current());
$it->rewind();
var_dump($it->valid());
?>
--EXPECT--
bool(true)
string(4) "only"
array(1) {
  ["n"]=>
  int(5)
}
bool(false)
NULL
NULL
bool(true)
