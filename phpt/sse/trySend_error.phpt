--TEST--
Via\SSE::trySend(): send()'s checks (line breaks in the event name or id, negative retry, types); a detached stream takes every event; false once closed
--FILE--
<?php
function show(callable $f): void {
    try {
        echo var_export($f(), true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$sse = (new Via\Response())->sse();
show(fn() => $sse->trySend('a', 'name', '7', 100));
show(fn() => $sse->trySend('x', "bad\nname"));
show(fn() => $sse->trySend('x', null, "1\r2"));
show(fn() => $sse->trySend('x', null, "1\0"));
show(fn() => $sse->trySend('x', null, null, -5));
show(fn() => $sse->trySend([]));
$sse->close();
show(fn() => $sse->trySend('after close'));
?>
--EXPECT--
true
ValueError: Via\SSE::trySend(): the event name must not contain CR or LF
ValueError: Via\SSE::trySend(): the id must not contain CR, LF or NUL
ValueError: Via\SSE::trySend(): the id must not contain CR, LF or NUL
ValueError: Via\SSE::trySend(): Argument #4 ($retry) must be >= 0, -5 given
TypeError: Via\SSE::trySend(): Argument #1 ($data) must be of type string, array given
false
