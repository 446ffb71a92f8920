--TEST--
Via\Timer::tick(): the interval must be at least 0.001 (1 ms)
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
ValueError: Via\Timer::tick(): Argument #1 ($seconds) must be between 0.001 and 31536000 seconds, 0 given
ValueError: Via\Timer::tick(): Argument #1 ($seconds) must be between 0.001 and 31536000 seconds, -0.5 given
