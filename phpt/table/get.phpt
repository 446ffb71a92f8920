--TEST--
Via\Table::get(): a whole row, one column, null for a missing row
--FILE--
<?php
$t = new Via\Table(4, ['n' => Via\Table::INT, 's' => [Via\Table::STRING, 8]]);
$t->set('k', ['n' => 7, 's' => 'seven']);
var_dump($t->get('k'), $t->get('k', 'n'), $t->get('k', 's'), $t->get('missing'), $t->get('missing', 'n'));
?>
--EXPECT--
array(2) {
  ["n"]=>
  int(7)
  ["s"]=>
  string(5) "seven"
}
int(7)
string(5) "seven"
NULL
NULL
