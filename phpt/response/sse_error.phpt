--TEST--
Via\Response::sse(): after headers were sent, negative retry
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
show(fn() => $r->sse(-1));
$r->write('x');
show(fn() => $r->sse());
?>
--EXPECT--
ValueError: Via\Response::sse(): Argument #1 ($retry) must be >= 0, -1 given
Via\Exception: Via\Response::sse(): headers were already sent
