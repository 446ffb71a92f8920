--TEST--
Via\Table::decr(): subtracts, by 1 by default
--FILE--
<?php
$t = new Via\Table(2, ['n' => Via\Table::INT, 'f' => Via\Table::FLOAT]);
var_dump($t->decr('k', 'n'), $t->decr('k', 'n', 4), $t->decr('k', 'f', 0.5));
?>
--EXPECT--
int(-1)
int(-5)
float(-0.5)
