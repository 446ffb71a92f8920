--TEST--
Via\Server::__construct(): a NUL byte in the host is a ValueError before start()
--EXTENSIONS--
via
--FILE--
<?php
try {
    $server = new Via\Server("127.0.0.1\0evil", 0, ['log_level' => 'off']);
    $server->onRequest(fn(Via\Request $req, Via\Response $res) => $res->end());
    $server->start();
    echo "started\n";
} catch (Throwable $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
ValueError: Via\Server::__construct(): Argument #1 ($host) must not contain any null bytes
