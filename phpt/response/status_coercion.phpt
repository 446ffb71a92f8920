--TEST--
Via\Response::status(): outside strict_types a numeric string code is an int, as for PHP's functions
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

var_dump((new Via\Response())->status('404')->getStatus());
var_dump((new Via\Response())->status(201.0)->getStatus());
show(fn() => (new Via\Response())->status('abc'));
?>
--EXPECT--
int(404)
int(201)
TypeError: Via\Response::status(): Argument #1 ($code) must be of type int, string given
