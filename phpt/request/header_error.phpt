--TEST--
Via\Request::header(), headerValues(), hasHeader(): a name that cannot be a string is a TypeError
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

$r = new Via\Request(['headers' => ['X' => '1']]);
show(fn() => $r->header([]));
show(fn() => $r->headerValues(new stdClass()));
show(fn() => $r->hasHeader([1]));
?>
--EXPECT--
TypeError: Via\Request::header(): Argument #1 ($name) must be of type string, array given
TypeError: Via\Request::headerValues(): Argument #1 ($name) must be of type string, stdClass given
TypeError: Via\Request::hasHeader(): Argument #1 ($name) must be of type string, array given