--TEST--
Via\Broker with redis://: a message reaches this server at once and comes back through a real redis-server (echo=1)
--FILE--
<?php
require __DIR__ . '/../brokers.inc';
$port = via_broker_server('redis');
$broker = new Via\Broker("redis://127.0.0.1:$port?channel=phpt&echo=1");
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$server->onRequest(fn($req, $res) => $res->end('x'));
$got = 0;
$broker->subscribe('room', function (string $payload, string $topic, int $origin) use (&$got, $server, $broker): void {
    echo "$topic: $payload from $origin\n";
    if (++$got === 2) {
        $s = $broker->stats();
        echo "connected=", var_export($broker->isConnected(), true), " published={$s['published']} sent={$s['sent']} delivered={$s['delivered']} dropped={$s['dropped']} rejected={$s['rejected']}\n";
        $server->stop();
    }
});
$server->onStart(function () use ($broker): void {
    // Taken into the outbox at once; sent once the connection is up.
    $broker->publish('room', 'hello');
});
$server->start();
echo "done\n";
?>
--EXPECT--
room: hello from 0
room: hello from -1
connected=true published=1 sent=1 delivered=2 dropped=0 rejected=0
done
