--TEST--
Via\sleep(): outside strict_types a numeric string or a bool is a float, as for PHP's functions
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

$t = microtime(true);
show(fn() => Via\sleep('0.02'));
var_dump(microtime(true) - $t >= 0.015);
show(fn() => Via\sleep(false));
show(fn() => Via\sleep('soon'));
show(fn() => Via\sleep([]));
?>
--EXPECT--
no error: NULL
bool(true)
no error: NULL
TypeError: Via\sleep(): Argument #1 ($seconds) must be of type float, string given
TypeError: Via\sleep(): Argument #1 ($seconds) must be of type float, array given
