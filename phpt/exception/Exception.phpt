--TEST--
Via\Exception and Via\ClosedException: RuntimeException subclasses PHP code can throw and extend
--FILE--
<?php
var_dump(is_subclass_of(Via\Exception::class, RuntimeException::class));
var_dump(is_subclass_of(Via\ClosedException::class, Via\Exception::class));
class MyError extends Via\Exception {}
try {
    throw new MyError('mine', 7);
} catch (Via\Exception $e) {
    echo get_class($e), ' ', $e->getMessage(), ' ', $e->getCode(), "\n";
}
?>
--EXPECT--
bool(true)
bool(true)
MyError mine 7
