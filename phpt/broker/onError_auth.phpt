--TEST--
Via\Broker::onError(): a wrong password on a real redis-server is a clear error without the password, not a hang
--FILE--
<?php
require __DIR__ . '/../brokers.inc';
$port = via_broker_server('redis', ['--requirepass', 'the-right-one']);
$broker = new Via\Broker("redis://default:not-the-password@127.0.0.1:$port");
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$server->onRequest(fn($req, $res) => $res->end('x'));
$broker->onError(function (Via\BrokerException $e) use ($server, $broker, $port): void {
    $m = str_replace((string) $port, 'PORT', $e->getMessage());
    echo substr($m, 0, strlen('broker redis://127.0.0.1:PORT: cannot connect')), "\n";
    echo 'names the refusal: ', var_export(stripos($m, 'WRONGPASS') !== false || stripos($m, 'auth') !== false, true), "\n";
    echo 'has password: ', var_export(str_contains($m, 'not-the-password'), true), "\n";
    echo 'connected: ', var_export($broker->isConnected(), true), "\n";
    $server->stop();
});
$server->start();
?>
--EXPECT--
broker redis://127.0.0.1:PORT: cannot connect
names the refusal: true
has password: false
connected: false
