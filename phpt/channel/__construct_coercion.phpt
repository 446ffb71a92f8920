--TEST--
Via\Channel::__construct(): outside strict_types the capacity follows PHP's int coercion (a fractional float is deprecated and truncated)
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

var_dump((new Via\Channel('3'))->capacity());
var_dump((new Via\Channel(2.0))->capacity());
var_dump((new Via\Channel(true))->capacity());
var_dump((new Via\Channel(2.5))->capacity());
show(fn() => new Via\Channel('three'));
show(fn() => new Via\Channel(NAN));
?>
--EXPECTF--
int(3)
int(2)
int(1)

Deprecated: Implicit conversion from float 2.5 to int loses precision in %s on line %d
int(2)
TypeError: Via\Channel::__construct(): Argument #1 ($capacity) must be of type int, string given
TypeError: Via\Channel::__construct(): Argument #1 ($capacity) must be of type int, float given
