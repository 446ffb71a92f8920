--TEST--
Via\Server::__construct(): a NUL byte in a path option is a ValueError naming the option
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

show(fn() => new Via\Server('127.0.0.1', 0, ['upload_dir' => "/tmp\0x"]));
show(fn() => new Via\Server('127.0.0.1', 0, ['static_dir' => "/tmp\0x"]));
show(fn() => new Via\Server('127.0.0.1', 0, ['tls_cert' => "/tmp/c.pem\0x", 'tls_key' => '/tmp/k.pem']));
?>
--EXPECT--
ValueError: Via\Server::__construct(): option "upload_dir": must not contain any null bytes
ValueError: Via\Server::__construct(): option "static_dir": must not contain any null bytes
ValueError: Via\Server::__construct(): option "tls_cert": must not contain any null bytes
