--TEST--
Via\Response::status(): under strict_types a string code or a non-string reason is a TypeError
--EXTENSIONS--
via
--FILE--
<?php
declare(strict_types=1);
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ": ", $e->getMessage(), "\n";
    }
}

show(fn() => (new Via\Response())->status('404'));
show(fn() => (new Via\Response())->status(404, 42));
show(fn() => (new Via\Response())->status(404, null)->getStatus());
?>
--EXPECT--
TypeError: Via\Response::status(): Argument #1 ($code) must be of type int, string given
TypeError: Via\Response::status(): Argument #2 ($reason) must be of type ?string, int given
no error: 404
