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
ValueError: Via\Timer::after(): Argument #1 ($seconds) must be a finite number of seconds >= 0, -1 given
ValueError: Via\Timer::after(): Argument #1 ($seconds) must be a finite number of seconds >= 0, inf given
TypeError: Invalid value given for argument `callback`.
