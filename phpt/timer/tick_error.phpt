--TEST--
Via\Timer::tick(): the interval must be positive
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

show(fn() => Via\Timer::tick(0, fn() => null));
show(fn() => Via\Timer::tick(-0.5, fn() => null));
?>
--EXPECT--
ValueError: Via\Timer::tick(): Argument #1 ($seconds) must be greater than 0
ValueError: Via\Timer::tick(): Argument #1 ($seconds) must be a finite number of seconds >= 0, -0.5 given
