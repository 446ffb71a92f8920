--TEST--
Via\Broker::onError(): a broker that cannot be reached calls back with a BrokerException naming it without credentials
--FILE--
<?php
require __DIR__ . '/../brokers.inc';
$port = via_free_port(); // nothing listens there
$broker = new Via\Broker("redis://app:hunter22-secret@127.0.0.1:$port");
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$server->onRequest(fn($req, $res) => $res->end('x'));
$broker->onError(function (Via\BrokerException $e) use ($server, $broker, $port): void {
    echo get_class($e), "\n";
    echo str_replace((string) $port, 'PORT', explode(': ', $e->getMessage(), 3)[0] . ': ' . explode(': ', $e->getMessage(), 3)[1]), "\n";
    echo 'has password: ', var_export(str_contains($e->getMessage(), 'hunter22'), true), "\n";
    echo 'connected: ', var_export($broker->isConnected(), true), "\n";
    $server->stop();
});
$server->start();
?>
--EXPECT--
Via\BrokerException
broker redis://127.0.0.1:PORT: cannot connect
has password: false
connected: false
