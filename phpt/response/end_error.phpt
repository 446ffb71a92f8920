--TEST--
Via\Response::end(): twice is an error
--FILE--
<?php
function show(callable $f): void {
    try {
        $f();
        echo "no error\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

$r = new Via\Response();
$r->end();
show(fn() => $r->end());
show(fn() => $r->end([]));
?>
--EXPECT--
Via\Exception: Via\Response::end(): the response has already ended
TypeError: Via\Response::end(): Argument #1 ($data) must be of type ?string, array given
