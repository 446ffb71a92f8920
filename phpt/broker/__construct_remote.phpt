--TEST--
Via\Broker::__construct(): redis://, rediss://, nats:// and tls:// DSNs; not connected before a server starts
--FILE--
<?php
foreach (['redis://127.0.0.1:6399', 'redis://user:pass@127.0.0.1:6399/3?channel=app&buffer=4096',
          'rediss://127.0.0.1', 'nats://token@127.0.0.1:4299', 'tls://u:p@[::1]:4299?echo=1',
          'redis://127.0.0.1?secret=0123456789abcdef&max_payload=100'] as $dsn) {
    $b = new Via\Broker($dsn);
    echo $b->dsn(), ' connected=', var_export($b->isConnected(), true), "\n";
}
try {
    $b->publish('t', 'x');
} catch (Via\BrokerException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
redis://127.0.0.1:6399 connected=false
redis://user:pass@127.0.0.1:6399/3?channel=app&buffer=4096 connected=false
rediss://127.0.0.1 connected=false
nats://token@127.0.0.1:4299 connected=false
tls://u:p@[::1]:4299?echo=1 connected=false
redis://127.0.0.1?secret=0123456789abcdef&max_payload=100 connected=false
Via\BrokerException: Via\Broker::publish(): not connected to redis://127.0.0.1:6379: a shared broker connects when the server starts
