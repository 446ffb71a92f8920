--TEST--
Via\CapacityException: extends Via\Exception; thrown by a full Via\Table
--FILE--
<?php
var_dump(is_subclass_of(Via\CapacityException::class, Via\Exception::class));
$e = new Via\CapacityException('full');
var_dump($e->getMessage());
$t = new Via\Table(1, ['n' => Via\Table::INT]);
$t->set('a', []);
try {
    $t->set('b', []);
} catch (Via\Exception $e) {
    echo get_class($e), "\n";
}
?>
--EXPECT--
bool(true)
string(4) "full"
Via\CapacityException
