--TEST--
Via\Server with workers: forked workers share a table, requests stick to a worker by cookie, stop() in a worker stops the server
--EXTENSIONS--
pcntl
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$table = new Via\Table(8, ['n' => Via\Table::INT]);
$server = new Via\Server('127.0.0.1', 0, ['workers' => 2, 'log_level' => 'off']);
$server->onWorkerStart(function (Via\Server $s, int $id) use ($table) {
    $table->incr('started', 'n');
});
via_serve($server, function ($req, $res) use ($server, $table) {
    $res->end($server->workerId() . ':' . $table->incr('hits', 'n') . ':' . ($server->masterPid() === getmypid() ? 'master' : 'worker'));
}, function (int $port): void {
    foreach ([0, 1, 0, 1] as $w) {
        echo via_get($port, "/", ["Cookie" => "via_worker=$w"])[2], "\n";
    }
});
echo "start() returned in the master\n";
var_dump($table->get('started', 'n'), $table->get('hits', 'n'));
?>
--EXPECT--
0:1:worker
1:2:worker
0:3:worker
1:4:worker
start() returned in the master
int(2)
int(4)
