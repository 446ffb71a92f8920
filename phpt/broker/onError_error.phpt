--TEST--
Via\Broker::onError(): not a callable; a closed broker
--FILE--
<?php
$b = new Via\Broker('redis://127.0.0.1:6399');
try {
    $b->onError('no_such_function');
} catch (TypeError $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
$b->close();
try {
    $b->onError(fn() => null);
} catch (Via\BrokerException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
TypeError: Via\Broker::onError(): Argument #1 ($callback) must be a valid callback, function "no_such_function" not found or invalid function name
Via\BrokerException: Via\Broker::onError(): the broker is closed
