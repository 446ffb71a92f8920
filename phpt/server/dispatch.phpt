--TEST--
Via\Server option "dispatch": "connection" workers accept and serve their own connections (no affinity cookie), share a table and topics; wrong values are errors
--EXTENSIONS--
pcntl
--FILE--
<?php
require __DIR__ . '/../serve.inc';
foreach ([
    ['dispatch' => 'hash'],
    ['dispatch' => 2],
    ['dispatch' => 'connection', 'workers' => 2, 'metrics_path' => '/metrics'],
] as $options) {
    try {
        (new Via\Server('127.0.0.1', 0, $options + ['log_level' => 'off']))->onRequest(fn() => null)->start();
        echo "no error\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$table = new Via\Table(8, ['n' => Via\Table::INT]);
$server = new Via\Server('127.0.0.1', 0, ['workers' => 2, 'dispatch' => 'connection', 'log_level' => 'off']);
$server->onWorkerStart(function (Via\Server $s, int $id) use ($table) {
    $table->incr('started', 'n');
});
via_serve($server, function ($req, $res) use ($server, $table) {
    if ($req->path() === '/subscribers') {
        $res->end((string) $server->subscribers('none'));
        return;
    }
    $table->incr('hits', 'n');
    $res->end(($server->masterPid() === getmypid() ? 'master' : 'worker') . ' ' . $server->workerCount());
}, function (int $port): void {
    for ($i = 0; $i < 4; $i++) {
        [, $headers, $body] = via_get($port, '/');
        echo $body, isset($headers['set-cookie']) ? ' with a cookie' : '', "\n";
    }
    echo 'subscribers: ', via_get($port, '/subscribers')[2], "\n";
});
echo "start() returned in the master\n";
var_dump($table->get('started', 'n'), $table->get('hits', 'n'));
?>
--EXPECT--
ValueError: Via\Server::__construct(): option "dispatch": must be "sticky" or "connection", "hash" given
ValueError: Via\Server::__construct(): option "dispatch": must be a string, int given
Via\Exception: Via\Server::start(): invalid configuration: option "metrics_path": needs metrics_listen with dispatch "connection": each worker serves its own connections, and the master sums their counters on the internal listener
worker 2
worker 2
worker 2
worker 2
subscribers: 0
start() returned in the master
int(2)
int(4)
