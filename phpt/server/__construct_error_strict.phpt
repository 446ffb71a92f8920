--TEST--
Via\Server::__construct(): under strict_types a string or null port is a TypeError
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

show(fn() => new Via\Server('127.0.0.1', '8080'));
show(fn() => new Via\Server('127.0.0.1', 8080.0));
show(fn() => new Via\Server('127.0.0.1', null));
show(fn() => new Via\Server(127001, 0));
show(fn() => new Via\Server('127.0.0.1', 0) instanceof Via\Server);
?>
--EXPECT--
TypeError: Via\Server::__construct(): Argument #2 ($port) must be of type int, string given
TypeError: Via\Server::__construct(): Argument #2 ($port) must be of type int, float given
TypeError: Via\Server::__construct(): Argument #2 ($port) must be of type int, null given
TypeError: Via\Server::__construct(): Argument #1 ($host) must be of type string, int given
no error: true
