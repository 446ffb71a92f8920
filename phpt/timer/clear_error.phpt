--TEST--
Via\Timer::clear(): the id must be an int
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
TypeError: Invalid value given for argument `id`.
TypeError: Invalid value given for argument `id`.
