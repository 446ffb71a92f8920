--TEST--
Via\Server with workers: every thread of a worker runs as SCHED_BATCH unless worker_sched_batch is false; the master's and a one-process server's threads keep the default policy
--EXTENSIONS--
pcntl
--SKIPIF--
<?php if (!is_readable('/proc/thread-self/stat')) die('skip needs /proc'); ?>
--FILE--
<?php
require __DIR__ . '/../serve.inc';

/** The kernel's scheduling policies of this process's threads (0 default, 3 batch). */
function policies(): string
{
    $seen = [];
    foreach (glob('/proc/self/task/*/stat') as $stat) {
        $fields = explode(' ', substr(strrchr(file_get_contents($stat), ')'), 2));
        $seen[(int) $fields[38]] = true; // field 41 of proc(5), counted from the state
    }
    ksort($seen);
    return implode(',', array_keys($seen));
}

foreach ([[2, true], [2, false], [1, true]] as [$workers, $batch]) {
    $server = new Via\Server('127.0.0.1', 0, ['workers' => $workers, 'worker_sched_batch' => $batch, 'log_level' => 'off']);
    via_serve($server, function ($req, $res) use ($server) {
        $res->end($server->workerId() . ': ' . policies());
    }, function (int $port) use ($workers, $batch): void {
        foreach ($workers === 2 ? [0, 1] : [0] as $w) {
            $label = "workers=$workers" . ($batch ? '' : ', worker_sched_batch=false');
            echo "$label, worker ", via_get($port, "/", ["Cookie" => "via_worker=$w"])[2], "\n";
        }
    });
}
echo "this process: ", policies(), "\n";
?>
--EXPECT--
workers=2, worker 0: 3
workers=2, worker 1: 3
workers=2, worker_sched_batch=false, worker 0: 0
workers=2, worker_sched_batch=false, worker 1: 0
workers=1, worker 0: 0
this process: 0
