--TEST--
Via\Table::capacity(): exactly that many rows fit, whatever the keys
--FILE--
<?php
$t = new Via\Table(1000, ['n' => Via\Table::INT]);
for ($i = 0; $i < 1000; $i++) {
    $t->set("key-" . ($i * 7919), ['n' => $i]);
}
var_dump($t->capacity(), count($t));
try {
    $t->set('one more', []);
} catch (Via\CapacityException $e) {
    echo "full at ", count($t), "\n";
}
?>
--EXPECT--
int(1000)
int(1000)
full at 1000
