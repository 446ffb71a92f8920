--TEST--
Via\Table::del(): removes a row and frees its place; false for a missing row
--FILE--
<?php
$t = new Via\Table(1, ['n' => Via\Table::INT]);
$t->set('a', ['n' => 1]);
var_dump($t->del('a'), $t->del('a'), count($t));
$t->set('b', ['n' => 2]); // the freed row takes a new key
var_dump($t->get('b', 'n'));
?>
--EXPECT--
bool(true)
bool(false)
int(0)
int(2)
