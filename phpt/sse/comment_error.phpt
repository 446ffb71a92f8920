--TEST--
Via\SSE::comment(), leave(): wrong argument types; comment() is false once closed
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
show(fn() => $sse->comment([]));
show(fn() => $sse->leave([]));
$sse->close();
show(fn() => $sse->comment('late'));
?>
--EXPECT--
TypeError: Via\SSE::comment(): Argument #1 ($text) must be of type string, array given
TypeError: Via\SSE::leave(): Argument #1 ($topic) must be of type string, array given
no error: false
