--TEST--
Via\Internal\endTask(): tasks queued together run in order, each ends or waits alone, and each gets its arguments as given
--CAPTURE_STDIO--
STDIN STDOUT
--FILE--
<?php
// Tasks queued together run in order (those that do not wait one after the other in one
// fiber: endTask() hands it the next job). One that throws, one that calls exit() and
// one that waits end or wait alone. Three fibers: 1-3 run in the first, which exit()
// takes along; 4 waits in the second; 5 and 6 run in the third.
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
$before = $server->stats()['fibers_created'];
$log = [];
for ($i = 1; $i <= 6; $i++) {
    Via\go(function () use ($i, &$log): void {
        $log[] = "start $i";
        match ($i) {
            2 => throw new RuntimeException("task $i threw"),
            3 => exit(),
            4 => Via\sleep(0.01),
            default => null,
        };
        $log[] = "end $i";
    });
}
Via\run();
echo implode(', ', $log), "\n";
$stats = $server->stats();
echo 'fibers created: ', $stats['fibers_created'] - $before, ', pooled: ', $stats['fibers_pooled'], ', tasks: ', $stats['tasks'], "\n";

// Any number of arguments reaches the callable as given (fiber_main calls a job by its
// size).
foreach ([[], [1], [1, 'two'], [1, 'two', [3]], [1, 'two', [3], null, 5.0]] as $args) {
    Via\go(function (...$got) use ($args): void {
        echo count($got), ' argument(s): ', $got === $args ? 'as given' : 'not as given', "\n";
    }, ...$args);
}
Via\run();
?>
--EXPECT--
start 1, end 1, start 2, start 3, start 4, start 5, end 5, start 6, end 6, end 4
fibers created: 3, pooled: 2, tasks: 0
0 argument(s): as given
1 argument(s): as given
2 argument(s): as given
3 argument(s): as given
5 argument(s): as given
