--TEST--
Via\BrokerException: extends Via\Exception, can be thrown and extended by PHP code
--FILE--
<?php
var_dump(is_subclass_of(Via\BrokerException::class, Via\Exception::class));
final class MyBrokerError extends Via\BrokerException {}
try {
    throw new MyBrokerError('down', 7);
} catch (Via\BrokerException $e) {
    echo get_class($e), ' ', $e->getMessage(), ' ', $e->getCode(), "\n";
}
?>
--EXPECT--
bool(true)
MyBrokerError down 7
