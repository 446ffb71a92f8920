--TEST--
Via\Table::__construct(): inside a running server it is an error (tables exist before the workers)
--FILE--
<?php
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$server->onRequest(fn($req, $res) => $res->end());
$server->onStart(function (Via\Server $s) {
    try {
        new Via\Table(1, ['n' => Via\Table::INT]);
    } catch (Via\Exception $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
    $s->stop();
});
$server->start();
new Via\Table(1, ['n' => Via\Table::INT]);
echo "after start() returned: ok\n";
?>
--EXPECT--
Via\Exception: Via\Table::__construct(): tables must be created before Server::start(); a table created now would not be shared with the workers
after start() returned: ok
