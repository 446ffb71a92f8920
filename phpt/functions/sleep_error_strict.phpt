--TEST--
Via\sleep(): under strict_types a string or null is a TypeError, an int is widened to float
--EXTENSIONS--
via
--FILE--
<?php
declare(strict_types=1);
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ": ", $e->getMessage(), "\n";
    }
}

show(fn() => Via\sleep('0.01'));
show(fn() => Via\sleep(null));
show(fn() => Via\sleep(0));
?>
--EXPECT--
TypeError: Via\sleep(): Argument #1 ($seconds) must be of type float, string given
TypeError: Via\sleep(): Argument #1 ($seconds) must be of type float, null given
no error: NULL
