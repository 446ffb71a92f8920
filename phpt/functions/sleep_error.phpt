--TEST--
Via\sleep(): negative, NAN, inside a foreign Fiber
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

show(fn() => Via\sleep(-1));
show(fn() => Via\sleep(NAN));
$f = new Fiber(fn() => Via\sleep(0.01));
show(fn() => $f->start());
?>
--EXPECT--
ValueError: Via\sleep(): Argument #1 ($seconds) must be between 0 and 31536000 seconds, -1 given
ValueError: Via\sleep(): Argument #1 ($seconds) must be between 0 and 31536000 seconds, NAN given
Via\Exception: Via\sleep(): cannot suspend inside a Fiber that via did not start; call it from a via task (Via\go(), a server or timer callback) or from the main script
