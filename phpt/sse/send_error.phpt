--TEST--
Via\SSE::send(): line breaks in the event name or id, negative retry; false once closed
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
show(fn() => $sse->send('x', "bad\nname"));
show(fn() => $sse->send('x', null, "1\r2"));
show(fn() => $sse->send('x', null, "1\0"));
show(fn() => $sse->send('x', null, null, -5));
show(fn() => $sse->send([]));
$sse->close();
show(fn() => $sse->send('after close'));
?>
--EXPECT--
ValueError: Via\SSE::send(): the event name must not contain CR or LF
ValueError: Via\SSE::send(): the id must not contain CR, LF or NUL
ValueError: Via\SSE::send(): the id must not contain CR, LF or NUL
ValueError: Via\SSE::send(): Argument #4 ($retry) must be >= 0, -5 given
TypeError: Via\SSE::send(): Argument #1 ($data) must be of type string, array given
no error: false
