--TEST--
Via\Table::getIterator(): foreach over a snapshot; numeric keys become ints
--FILE--
<?php
$t = new Via\Table(4, ['n' => Via\Table::INT]);
$t->set('a', ['n' => 1]);
$t->set('7', ['n' => 2]);
$t->set('007', ['n' => 3]);
$seen = [];
foreach ($t as $k => $row) {
    $seen[] = var_export($k, true) . ' => ' . $row['n'];
    $t->set('added-while-iterating', []);
}
sort($seen);
echo implode("\n", $seen), "\n";
var_dump($t->getIterator() instanceof Iterator);
?>
--EXPECT--
'007' => 3
'a' => 1
7 => 2
bool(true)
