--TEST--
Via\Server::__construct(): arguments of the wrong type get PHP's TypeError, naming the method and the argument
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

show(fn() => new Via\Server('127.0.0.1', 'eighty'));
show(fn() => new Via\Server('127.0.0.1', []));
show(fn() => new Via\Server([], 80));
show(fn() => new Via\Server('127.0.0.1', 80, 'options'));
?>
--EXPECT--
TypeError: Via\Server::__construct(): Argument #2 ($port) must be of type int, string given
TypeError: Via\Server::__construct(): Argument #2 ($port) must be of type int, array given
TypeError: Via\Server::__construct(): Argument #1 ($host) must be of type string, array given
TypeError: Via\Server::__construct(): Argument #3 ($options) must be of type ?array, string given
