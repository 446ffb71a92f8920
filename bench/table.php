<?php
// Via\Table operations per second from PHP: get, set, incr on the same keys, in one
// process and in two processes at once (pcntl_fork), next to a PHP array in one process
// (the ceiling: no shared memory, no lock).
//
// Usage: php -d extension=target/release/libvia.so bench/table.php [seconds per case]
declare(strict_types=1);

$seconds = (float) ($argv[1] ?? 2.0);
$keys = array_map(fn ($i) => "key-$i", range(0, 99));

function run_case(string $op, Via\Table|null $t, array &$arr, array $keys, float $seconds): int
{
    $n = 0;
    $deadline = hrtime(true) + (int) ($seconds * 1e9);
    $k = 0;
    while (true) {
        for ($i = 0; $i < 1000; $i++) {
            $key = $keys[$k++ % 100];
            if ($t === null) {
                match ($op) {
                    'get' => $arr[$key] ?? null,
                    'set' => $arr[$key] = ['n' => $i, 's' => 'value'],
                    'incr' => $arr[$key]['n'] = ($arr[$key]['n'] ?? 0) + 1,
                };
            } else {
                match ($op) {
                    'get' => $t->get($key),
                    'set' => $t->set($key, ['n' => $i, 's' => 'value']),
                    'incr' => $t->incr($key, 'n'),
                };
            }
        }
        $n += 1000;
        if (hrtime(true) >= $deadline) {
            return $n;
        }
    }
}

$t = new Via\Table(1024, ['n' => Via\Table::INT, 's' => [Via\Table::STRING, 64]]);
foreach ($keys as $key) {
    $t->set($key, ['n' => 0, 's' => 'value']);
}
$arr = [];
foreach ($keys as $key) {
    $arr[$key] = ['n' => 0, 's' => 'value'];
}
$rows = [];
foreach (['get', 'set', 'incr'] as $op) {
    $array = run_case($op, null, $arr, $keys, $seconds) / $seconds;
    $one = run_case($op, $t, $arr, $keys, $seconds) / $seconds;
    // Two processes on the same 100 keys: the child reports its count through the table.
    $pid = pcntl_fork();
    if ($pid === 0) {
        $n = run_case($op, $t, $arr, $keys, $seconds);
        $t->set('child-result', ['n' => $n]);
        exit(0);
    }
    $mine = run_case($op, $t, $arr, $keys, $seconds);
    pcntl_waitpid($pid, $status);
    $two = ($mine + $t->get('child-result', 'n')) / $seconds;
    $t->del('child-result');
    $rows[] = [$op, $array, $one, $two];
}
printf("Machine: %d CPUs, PHP %s; %s s per case; 100 keys, a row of an int and a 64-byte string\n\n",
    (int) shell_exec('nproc'), PHP_VERSION, $seconds);
echo "| operation | PHP array, 1 process | Via\\Table, 1 process | Via\\Table, 2 processes (sum) |\n";
echo "|---|---:|---:|---:|\n";
foreach ($rows as [$op, $array, $one, $two]) {
    printf("| %s | %s ops/s | %s ops/s | %s ops/s |\n", $op, number_format($array), number_format($one), number_format($two));
}
