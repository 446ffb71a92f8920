--TEST--
Via\Channel::__construct(): under strict_types only an int capacity is accepted
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

show(fn() => new Via\Channel('3'));
show(fn() => new Via\Channel(2.0));
show(fn() => (new Via\Channel(3))->capacity());
?>
--EXPECT--
TypeError: Via\Channel::__construct(): Argument #1 ($capacity) must be of type int, string given
TypeError: Via\Channel::__construct(): Argument #1 ($capacity) must be of type int, float given
no error: 3
