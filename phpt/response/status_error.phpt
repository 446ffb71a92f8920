--TEST--
Via\Response::status(): invalid codes, control characters, after headers were sent
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
show(fn() => $r->status(199));
show(fn() => $r->status(1000));
show(fn() => $r->status(200, "OK\r\nX: y"));
$r->write('x');
show(fn() => $r->status(201));
?>
--EXPECT--
ValueError: Via\Response::status(): Argument #1 ($code) must be between 200 and 999, 199 given
ValueError: Via\Response::status(): Argument #1 ($code) must be between 200 and 999, 1000 given
ValueError: Via\Response::status(): Argument #2 ($reason) must not contain control characters
Via\Exception: Via\Response::status(): headers were already sent; set status, headers and cookies before the first write()
