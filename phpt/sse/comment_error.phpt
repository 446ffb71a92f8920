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
TypeError: Invalid value given for argument `text`.
TypeError: Invalid value given for argument `topic`.
no error: false
