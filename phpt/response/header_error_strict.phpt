--TEST--
Via\Response::header(): under strict_types an int value, a Stringable object or an int for $replace is a TypeError
--EXTENSIONS--
via
--FILE--
<?php
declare(strict_types=1);
class Token { public function __toString(): string { return 'abc'; } }
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ": ", $e->getMessage(), "\n";
    }
}

$res = new Via\Response();
show(fn() => $res->header('X-Int', 5));
show(fn() => $res->header('X-Object', new Token()));
show(fn() => $res->header('X-A', 'b', 0));
?>
--EXPECT--
TypeError: Via\Response::header(): Argument #2 ($value) must be of type string, int given
TypeError: Via\Response::header(): Argument #2 ($value) must be of type string, Token given
TypeError: Via\Response::header(): Argument #3 ($replace) must be of type bool, int given
