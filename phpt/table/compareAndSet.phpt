--TEST--
Via\Table::compareAndSet(): swaps only when the column holds the expected value
--FILE--
<?php
$t = new Via\Table(2, ['n' => Via\Table::INT, 'f' => Via\Table::FLOAT, 's' => [Via\Table::STRING, 8]]);
$t->set('k', ['n' => 1, 'f' => 1.5, 's' => 'old']);
var_dump($t->compareAndSet('k', 'n', 2, 10), $t->get('k', 'n'));
var_dump($t->compareAndSet('k', 'n', 1, 10), $t->get('k', 'n'));
var_dump($t->compareAndSet('k', 'f', 1.5, 2), $t->get('k', 'f'));
var_dump($t->compareAndSet('k', 's', 'old', 'new'), $t->get('k', 's'));
var_dump($t->compareAndSet('missing', 'n', 0, 1), $t->exists('missing'));
?>
--EXPECT--
bool(false)
int(1)
bool(true)
int(10)
bool(true)
float(2)
bool(true)
string(3) "new"
bool(false)
bool(false)
