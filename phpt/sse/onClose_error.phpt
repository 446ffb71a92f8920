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
TypeError: Via\SSE::onClose(): Argument #1 ($callback) must be a valid callback, function "nope_no_function" not found or invalid function name
ValueError: Via\SSE::waitClosed(): Argument #1 ($timeout) must be a number of seconds, NAN given
ValueError: Via\SSE::join(): Argument #1 ($topic) must not be empty
