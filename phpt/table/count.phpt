--TEST--
Via\Table::count(): rows in use, also through count()
--FILE--
<?php
$t = new Via\Table(3, ['n' => Via\Table::INT]);
var_dump($t->count(), count($t), $t instanceof Countable);
$t->set('a', []);
$t->incr('b', 'n');
var_dump(count($t));
$t->del('a');
var_dump($t->count());
?>
--EXPECT--
int(0)
int(0)
bool(true)
int(2)
int(1)
