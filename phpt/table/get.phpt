--TEST--
Via\Table::get(): a whole row, one column, null for a missing row
--FILE--
<?php
$t = new Via\Table(4, ['n' => Via\Table::INT, 's' => [Via\Table::STRING, 8]]);
$t->set('k', ['n' => 7, 's' => 'seven']);
var_dump($t->get('k'), $t->get('k', 'n'), $t->get('k', 's'), $t->get('missing'), $t->get('missing', 'n'));

// Rows of every width read back whole: small rows are copied out on the stack, wide ones
// on the heap (492 fills the 512 bytes kept on the stack; 493 is one word more).
foreach ([100, 492, 493, 4000] as $size) {
    $w = new Via\Table(2, ['a' => Via\Table::INT, 'text' => [Via\Table::STRING, $size], 'z' => Via\Table::FLOAT]);
    $text = str_repeat('ab', intdiv($size, 2)) . ($size % 2 ? 'c' : '');
    $w->set('r', ['a' => -$size, 'text' => $text, 'z' => 1.5]);
    $row = $w->get('r');
    echo $size, ': ', $row === ['a' => -$size, 'text' => $text, 'z' => 1.5] ? 'same' : 'DIFFERENT', "\n";
}
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
100: same
492: same
493: same
4000: same
