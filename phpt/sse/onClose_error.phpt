--TEST--
Via\SSE::onClose(), waitClosed(), join(): bad arguments
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

$sse = (new Via\Response())->sse();
show(fn() => $sse->onClose('nope_no_function'));
show(fn() => $sse->waitClosed(NAN));
show(fn() => $sse->join(''));
?>
--EXPECT--
TypeError: Invalid value given for argument `callback`.
ValueError: Via\SSE::waitClosed(): Argument #1 ($timeout) must be finite
ValueError: Via\SSE::join(): Argument #1 ($topic) must not be empty
