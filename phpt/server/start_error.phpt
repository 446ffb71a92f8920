--TEST--
Via\Server::start(): no handler, address in use, already inside a loop
--FILE--
<?php
try {
    (new Via\Server('127.0.0.1', 0))->start();
} catch (Via\Exception $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
$busy = stream_socket_server('tcp://127.0.0.1:0');
$port = (int) substr(strrchr(stream_socket_get_name($busy, false), ':'), 1);
try {
    (new Via\Server('127.0.0.1', $port))->onRequest(fn() => null)->start();
} catch (Via\Exception $e) {
    echo get_class($e), ': ', preg_replace('/:\d+:/', ':PORT:', $e->getMessage()), "\n";
}
try {
    (new Via\Server('no-such-host.invalid', 0))->onRequest(fn() => null)->start();
} catch (Via\Exception $e) {
    echo get_class($e), ': ', preg_replace('/(host "[^"]*").*/', '$1', $e->getMessage()), "\n";
}
Via\run(function (): void {
    try {
        (new Via\Server('127.0.0.1', 0))->onRequest(fn() => null)->start();
    } catch (Via\Exception $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
});
?>
--EXPECTF--
Via\Exception: Via\Server::start(): no request handler; call onRequest() first
Via\Exception: Via\Server::start(): cannot listen on 127.0.0.1:PORT: Address already in use (os error 98)
Via\Exception: Via\Server::start(): cannot resolve host "no-such-host.invalid"
Via\Exception: Via\Server::start(): cannot start inside a task or a running loop
