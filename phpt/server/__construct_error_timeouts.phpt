--TEST--
Via\Server::__construct(): durations under their minimum (or over a year) are refused, with the range
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

$server = fn(array $options) => new Via\Server('127.0.0.1', 0, $options);
show(fn() => $server(['header_timeout' => 1e-12]));
show(fn() => $server(['keepalive_timeout' => 1e-300]));
show(fn() => $server(['write_timeout' => 5e-10]));
show(fn() => $server(['body_timeout' => 0.05]));
show(fn() => $server(['request_timeout' => 0.001]));
show(fn() => $server(['sse_heartbeat' => 0.01]));
show(fn() => $server(['crash_window' => 0.5]));
show(fn() => $server(['shutdown_timeout' => 1e300]));
show(fn() => $server(['header_timeout' => 0.1, 'request_timeout' => 0, 'sse_heartbeat' => 0, 'shutdown_timeout' => 0]) instanceof Via\Server);
?>
--EXPECT--
ValueError: Via\Server::__construct(): option "header_timeout": must be between 0.1 and 31536000 seconds, 1e-12 given
ValueError: Via\Server::__construct(): option "keepalive_timeout": must be between 0.1 and 31536000 seconds, 1e-300 given
ValueError: Via\Server::__construct(): option "write_timeout": must be between 0.1 and 31536000 seconds, 5e-10 given
ValueError: Via\Server::__construct(): option "body_timeout": must be between 0.1 and 31536000 seconds, 0.05 given
ValueError: Via\Server::__construct(): option "request_timeout": must be 0 (off) or between 0.01 and 31536000 seconds, 0.001 given
ValueError: Via\Server::__construct(): option "sse_heartbeat": must be 0 (off) or between 0.1 and 31536000 seconds, 0.01 given
ValueError: Via\Server::__construct(): option "crash_window": must be between 1 and 31536000 seconds, 0.5 given
ValueError: Via\Server::__construct(): option "shutdown_timeout": must be 0 (off) or between 0.001 and 31536000 seconds, 1e300 given
no error: true
