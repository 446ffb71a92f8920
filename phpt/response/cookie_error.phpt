--TEST--
Via\Response::cookie(): invalid names, values and options
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
show(fn() => $r->cookie('', 'x'));
show(fn() => $r->cookie('a=b', 'x'));
show(fn() => $r->cookie('a', 'x;y', ['raw' => true]));
show(fn() => $r->cookie('a', 'x', ['colour' => 'red']));
show(fn() => $r->cookie('a', 'x', ['samesite' => 'sometimes']));
show(fn() => $r->cookie('a', 'x', ['secure' => 'yes']));
show(fn() => $r->cookie('a', 'x', ['partitioned' => true]));
show(fn() => $r->cookie('a', 'x', ['samesite' => 'None']));
show(fn() => $r->cookie('a', 'x', ['path' => '/a;b']));
show(fn() => $r->cookie('a', 'x', ['expires' => PHP_INT_MAX]));
$r->end();
show(fn() => $r->cookie('late', 'x'));
?>
--EXPECT--
ValueError: Via\Response::cookie(): cookie name must not be empty
ValueError: Via\Response::cookie(): cookie name must not contain "=", ",", ";", " ", "\t", "\r", "\n", "\013", "\014" or non-ASCII bytes
ValueError: Via\Response::cookie(): raw cookie value must not contain ",", ";", " ", "\t", "\r", "\n", "\013" or "\014"
ValueError: Via\Response::cookie(): Argument #3 ($options) has an unknown key "colour"; known keys are expires, max_age, path, domain, secure, httponly, samesite, partitioned, raw
ValueError: Via\Response::cookie(): Argument #3 ($options) "samesite" must be "Strict", "Lax" or "None", "sometimes" given
ValueError: Via\Response::cookie(): Argument #3 ($options) "secure" must be a bool, string given
ValueError: Via\Response::cookie(): a partitioned cookie must also be secure
ValueError: Via\Response::cookie(): a SameSite=None cookie must also be secure (browsers reject it otherwise)
ValueError: Via\Response::cookie(): cookie path must not contain ",", ";", " ", "\t", "\r", "\n", "\013" or "\014"
ValueError: Via\Response::cookie(): cookie expiry date must not have a year greater than 9999
Via\Exception: Via\Response::cookie(): headers were already sent; set status, headers and cookies before the first write()
