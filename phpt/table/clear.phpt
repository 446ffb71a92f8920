--TEST--
Via\Table::clear(): removes every row; the table takes new ones
--FILE--
<?php
$t = new Via\Table(2, ['n' => Via\Table::INT]);
$t->set('a', []);
$t->set('b', []);
$t->clear();
var_dump(count($t), $t->exists('a'));
$t->set('c', []);
$t->set('d', []);
var_dump(count($t));
?>
--EXPECT--
int(0)
bool(false)
int(2)
