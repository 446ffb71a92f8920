--TEST--
Via\Table::set() and get(): integer-like and binary column names, and rows bigger than the stack copy
--FILE--
<?php
// "7" as an array key is the int 7 in PHP; "07" and "-0" stay strings.
$t = new Via\Table(4, ['7' => Via\Table::INT, '07' => Via\Table::INT, '-0' => Via\Table::INT]);
$t->set('k', ['7' => 1, '07' => 2, '-0' => 3]);
$t->set('k', [7 => 10]);
var_dump($t->get('k'), $t->get('k', '7'), $t->get('k', '07'));
var_dump($t->get('k')[7], iterator_to_array($t)['k'] === $t->get('k'));

// Two 300-byte string columns: a row of 600 bytes is copied out through the heap.
$big = new Via\Table(2, ['a' => [Via\Table::STRING, 300], 'b' => [Via\Table::STRING, 300], 'n' => Via\Table::INT]);
$big->set('r', ['a' => str_repeat('a', 300), 'b' => str_repeat('b', 299) . 'B', 'n' => -1]);
$row = $big->get('r');
var_dump(strlen($row['a']), $row['a'] === str_repeat('a', 300), substr($row['b'], -2), $row['n']);
var_dump(strlen($big->get('r', 'b')));
?>
--EXPECT--
array(3) {
  [7]=>
  int(10)
  ["07"]=>
  int(2)
  ["-0"]=>
  int(3)
}
int(10)
int(2)
int(10)
bool(true)
int(300)
bool(true)
string(2) "bB"
int(-1)
int(300)
