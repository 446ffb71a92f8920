--TEST--
Via\Request::header(), headerValues(), hasHeader(): a name that is not a string is a TypeError
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
show(fn() => $r->hasHeader(null));
?>
--EXPECT--
TypeError: Invalid value given for argument `name`.
TypeError: Invalid value given for argument `name`.
TypeError: Invalid value given for argument `name`.
