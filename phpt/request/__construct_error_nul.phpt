--TEST--
Via\Request::__construct(): a NUL byte in a string value is a ValueError naming the key
--EXTENSIONS--
via
--FILE--
<?php
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ": ", $e->getMessage(), "\n";
    }
}

show(fn() => new Via\Request(['uri' => "/a\0b"]));
show(fn() => new Via\Request(['method' => "GE\0T"]));
show(fn() => new Via\Request(['headers' => ["X-A\0B" => '1']]));
?>
--EXPECT--
ValueError: Via\Request::__construct(): "uri" must not contain any null bytes
ValueError: Via\Request::__construct(): "method" must not contain any null bytes
ValueError: Via\Request::__construct(): invalid header name "X-A\0B"
