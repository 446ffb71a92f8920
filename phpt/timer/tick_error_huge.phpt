--TEST--
Via\Timer::tick(): an interval over 365 days is a ValueError, not a panic
--EXTENSIONS--
via
--FILE--
<?php
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ": ", $e->getMessage(), "\n";
    }
}

show(fn() => Via\Timer::tick(1e300, fn() => print("never\n")));
var_dump(Via\Timer::clearAll());
?>
--EXPECT--
ValueError: Via\Timer::tick(): Argument #1 ($seconds) must be between 0.001 and 31536000 seconds, 1e300 given
int(0)
