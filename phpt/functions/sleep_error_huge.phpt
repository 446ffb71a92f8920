--TEST--
Via\sleep(): a duration over 365 days is a ValueError, not a panic
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

show(fn() => Via\sleep(1e20));
show(fn() => Via\sleep(INF));
show(fn() => Via\sleep(31536000.5));
?>
--EXPECT--
ValueError: Via\sleep(): Argument #1 ($seconds) must be between 0 and 31536000 seconds, 1e20 given
ValueError: Via\sleep(): Argument #1 ($seconds) must be between 0 and 31536000 seconds, INF given
ValueError: Via\sleep(): Argument #1 ($seconds) must be between 0 and 31536000 seconds, 31536000.5 given
