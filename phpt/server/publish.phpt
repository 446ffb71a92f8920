--TEST--
Via\Server::publish(): count of member streams; 0 for an unknown topic
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($server): void {
    $res->end(json_encode([$server->publish('nobody', 'x'), $server->stats()['topic_publishes']]));
}, function (int $port): void {
    echo via_get($port, '/')[2], "\n";
});
?>
--EXPECT--
[0,1]
