<?php
// Cross-worker latency of Via\Broker('workers://'): worker 0 publishes at a fixed rate
// (default 10,000 messages/s, in bursts of 10 per millisecond), worker 1's subscriber
// notes hrtime() - the send time carried in the payload (CLOCK_MONOTONIC is one clock for
// every process of a machine). Next to it, the same through memory:// inside one process.
//
// Usage: php -d extension=target/release/libvia.so bench/broker.php [messages] [rate/s]
declare(strict_types=1);

$total = (int) ($argv[1] ?? 50000);
$rate = (int) ($argv[2] ?? 10000);
$perTick = max(1, intdiv($rate, 1000));
$results = tempnam(sys_get_temp_dir(), 'via-broker-bench');

function percentiles(array $lat): array
{
    sort($lat);
    $n = count($lat);
    $at = fn (float $p) => $lat[min($n - 1, (int) floor($p * ($n - 1)))] / 1e3;
    return ['n' => $n, 'p50' => $at(0.50), 'p99' => $at(0.99), 'p999' => $at(0.999), 'max' => $lat[$n - 1] / 1e3];
}

$server = new Via\Server('127.0.0.1', 0, ['workers' => 2, 'log_level' => getenv('VIA_LOG') ?: 'warn']);
$broker = new Via\Broker('workers://');
$server->onWorkerStart(function (Via\Server $s, int $id) use ($broker, $total, $perTick, $results): void {
    if ($id === 1) {
        $lat = [];
        $broker->subscribe('bench', function (string $payload) use (&$lat, $total, $results, $s): void {
            $lat[] = hrtime(true) - (int) $payload;
            if (count($lat) === $total) {
                file_put_contents($results, json_encode(percentiles($lat)));
                $s->stop();
            }
        });
        // Say "ready" until the first message arrives: worker 0 may subscribe after us.
        Via\go(function () use ($broker, &$lat): void {
            while ($lat === []) {
                $broker->publish('ready', '1');
                Via\sleep(0.01);
            }
        });
        return;
    }
    // Worker 0 starts once worker 1 said it is subscribed.
    $started = false;
    $broker->subscribe('ready', function () use ($broker, $total, $perTick, &$started): void {
        if ($started) {
            return;
        }
        $started = true;
        Via\go(function () use ($broker, $total, $perTick): void {
            $sent = 0;
            $next = hrtime(true);
            while ($sent < $total) {
                for ($i = 0; $i < $perTick && $sent < $total; $i++, $sent++) {
                    $broker->publish('bench', (string) hrtime(true));
                }
                $next += 1_000_000;
                $wait = $next - hrtime(true);
                if ($wait > 0) {
                    Via\sleep($wait / 1e9);
                }
            }
        });
    });
});
$server->onRequest(fn ($req, $res) => $res->end());
$server->start();
$cross = json_decode((string) file_get_contents($results), true);
unlink($results);

// The reference: memory:// in one process, same rate.
$mem = new Via\Broker('memory://');
$lat = [];
$mem->subscribe('bench', function (string $payload) use (&$lat): void {
    $lat[] = hrtime(true) - (int) $payload;
});
Via\go(function () use ($mem, $total, $perTick): void {
    $next = hrtime(true);
    for ($sent = 0; $sent < $total;) {
        for ($i = 0; $i < $perTick && $sent < $total; $i++, $sent++) {
            $mem->publish('bench', (string) hrtime(true));
        }
        $next += 1_000_000;
        $wait = $next - hrtime(true);
        if ($wait > 0) {
            Via\sleep($wait / 1e9);
        }
    }
});
Via\run();
$local = percentiles($lat);

printf("Machine: %d CPUs, PHP %s; %d messages at %d/s (bursts of %d per ms)\n\n",
    (int) shell_exec('nproc'), PHP_VERSION, $total, $rate, $perTick);
echo "| path | messages | p50 µs | p99 µs | p99.9 µs | max µs |\n|---|---:|---:|---:|---:|---:|\n";
foreach (['workers:// (worker 0 → master → worker 1)' => $cross, 'memory:// (one process)' => $local] as $name => $r) {
    printf("| %s | %d | %.1f | %.1f | %.1f | %.1f |\n", $name, $r['n'], $r['p50'], $r['p99'], $r['p999'], $r['max']);
}
