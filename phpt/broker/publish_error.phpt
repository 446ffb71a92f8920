--TEST--
Via\Broker::publish(), subscribe(), unsubscribe(): bad topics, a payload over the limit, a closed broker
--FILE--
<?php
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$b = new Via\Broker('memory://?max_payload=4');
show(fn() => $b->publish('', 'x'));
show(fn() => $b->publish(str_repeat('t', 1025), 'x'));
show(fn() => $b->publish('t', '12345'));
show(fn() => $b->subscribe('', fn () => null));
show(fn() => $b->subscribe('t', 'not a function'));
show(fn() => $b->unsubscribe(''));
$b->close();
show(fn() => $b->publish('t', 'x'));
show(fn() => $b->subscribe('t', fn () => null));
show(fn() => $b->unsubscribe('t'));
?>
--EXPECTF--
ValueError: Via\Broker::publish(): Argument #1 ($topic) must be 1 to 1024 bytes, 0 given
ValueError: Via\Broker::publish(): Argument #1 ($topic) must be 1 to 1024 bytes, 1025 given
ValueError: Via\Broker::publish(): Argument #2 ($payload) is 5 bytes, over the broker's max_payload of 4
ValueError: Via\Broker::subscribe(): Argument #1 ($topic) must be 1 to 1024 bytes, 0 given
TypeError: Via\Broker::subscribe(): Argument #2 ($callback) must be a valid callback, function "not a function" not found or invalid function name
ValueError: Via\Broker::unsubscribe(): Argument #1 ($topic) must be 1 to 1024 bytes, 0 given
Via\BrokerException: Via\Broker::publish(): the broker is closed
Via\BrokerException: Via\Broker::subscribe(): the broker is closed
no error: false
