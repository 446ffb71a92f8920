--TEST--
Via\Timer::clear(): the id must be an int (a numeric string is coerced)
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

show(fn() => Via\Timer::clear('1'));
show(fn() => Via\Timer::clear([]));
?>
--EXPECT--
no error: false
TypeError: Via\Timer::clear(): Argument #1 ($id) must be of type int, array given
