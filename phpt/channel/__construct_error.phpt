--TEST--
Via\Channel::__construct(): capacity below 1
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

show(fn() => new Via\Channel(0));
show(fn() => new Via\Channel(-5));
show(fn() => new Via\Channel('many'));
?>
--EXPECT--
ValueError: Via\Channel::__construct(): Argument #1 ($capacity) must be at least 1, 0 given
ValueError: Via\Channel::__construct(): Argument #1 ($capacity) must be at least 1, -5 given
TypeError: Via\Channel::__construct(): Argument #1 ($capacity) must be of type int, string given
