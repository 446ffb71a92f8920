--TEST--
Via\Response::getHeader(), removeHeader(): invalid names
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

$r = new Via\Response();
show(fn() => $r->getHeader('bad name'));
show(fn() => $r->removeHeader("x\n"));
show(fn() => $r->getHeader([]));
?>
--EXPECT--
ValueError: Via\Response::getHeader(): Argument #1 ($name) must be a valid header name (RFC 9110 token), "bad name" given
ValueError: Via\Response::removeHeader(): Argument #1 ($name) must be a valid header name (RFC 9110 token), "x
" given
TypeError: Via\Response::getHeader(): Argument #1 ($name) must be of type string, array given
