--TEST--
Via\Table::columns(): the schema in declaration order
--FILE--
<?php
$t = new Via\Table(1, ['z' => [Via\Table::STRING, 3], 'a' => Via\Table::INT]);
var_dump($t->columns());
?>
--EXPECT--
array(2) {
  ["z"]=>
  array(2) {
    ["type"]=>
    string(6) "string"
    ["size"]=>
    int(3)
  }
  ["a"]=>
  array(2) {
    ["type"]=>
    string(3) "int"
    ["size"]=>
    int(8)
  }
}
