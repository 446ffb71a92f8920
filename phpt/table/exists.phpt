--TEST--
Via\Table::exists(): before, after set and after del
--FILE--
<?php
$t = new Via\Table(2, ['n' => Via\Table::INT]);
var_dump($t->exists('k'));
$t->set('k', []);
var_dump($t->exists('k'));
$t->del('k');
var_dump($t->exists('k'));
?>
--EXPECT--
bool(false)
bool(true)
bool(false)
