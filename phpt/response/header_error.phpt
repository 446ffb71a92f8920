--TEST--
Via\Response::header(): invalid names and values, after headers were sent
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
show(fn() => $r->header('Bad Name', 'x'));
show(fn() => $r->header('X', "a\r\nInjected: 1"));
show(fn() => $r->header('X', "nul\0"));
show(fn() => $r->header('X', []));
$r->end();
show(fn() => $r->header('X', 'late'));
show(fn() => $r->removeHeader('X'));
?>
--EXPECT--
ValueError: Via\Response::header(): Argument #1 ($name) must be a valid header name (RFC 9110 token), "Bad Name" given
ValueError: Via\Response::header(): Argument #2 ($value) must not contain CR, LF or NUL
ValueError: Via\Response::header(): Argument #2 ($value) must not contain CR, LF or NUL
TypeError: Via\Response::header(): Argument #2 ($value) must be of type string, array given
Via\Exception: Via\Response::header(): headers were already sent; set status, headers and cookies before the first write()
Via\Exception: Via\Response::removeHeader(): headers were already sent; set status, headers and cookies before the first write()
