--TEST--
Via\SSE::__construct(): obtained from Via\Response::sse() only
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

show(fn() => new Via\SSE());
?>
--EXPECT--
Exception: You cannot instantiate this class from PHP.
