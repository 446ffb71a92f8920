--TEST--
Via\Server::masterPid(), workerId(), workerCount(): one process is worker 0 of 1, its own master
--FILE--
<?php
$s = new Via\Server('127.0.0.1', 0, ['workers' => 4]);
$one = new Via\Server('127.0.0.1', 0);
var_dump($s->workerId(), $s->workerCount(), $one->workerCount(), $s->masterPid() === getmypid());
?>
--EXPECT--
int(0)
int(4)
int(1)
bool(true)
