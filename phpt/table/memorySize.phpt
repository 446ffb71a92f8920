--TEST--
Via\Table::memorySize(): grows with rows and column sizes
--FILE--
<?php
$small = new Via\Table(10, ['n' => Via\Table::INT]);
$big = new Via\Table(10, ['s' => [Via\Table::STRING, 4096]]);
var_dump($small->memorySize() > 10 * 8, $big->memorySize() > 10 * 4096, $big->memorySize() > $small->memorySize());
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
