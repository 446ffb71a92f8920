--TEST--
Via\Timer::after(): negative delay, non-callable
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

show(fn() => Via\Timer::after(-1, fn() => null));
show(fn() => Via\Timer::after(INF, fn() => null));
show(fn() => Via\Timer::after(1, 'nope_no_function'));
?>
--EXPECT--
ValueError: Via\Timer::after(): Argument #1 ($seconds) must be between 0 and 31536000 seconds, -1 given
ValueError: Via\Timer::after(): Argument #1 ($seconds) must be between 0 and 31536000 seconds, INF given
TypeError: Via\Timer::after(): Argument #2 ($callback) must be a valid callback, function "nope_no_function" not found or invalid function name
