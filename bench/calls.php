<?php
// The cost of one call into the extension from PHP, for the hot methods: Request getters,
// Response building and end(), SSE::send(), Channel push/pop, Via\Table get/set/incr —
// next to an empty PHP method call (the floor of any call) and, when OpenSwoole is given,
// OpenSwoole\Table's get/set/incr in the same run.
//
// Usage: php -n -d extension=target/release/libvia.so bench/calls.php [calls per case]
//        [path to openswoole.so, loaded in a child php for its table]
declare(strict_types=1);

$n = (int) ($argv[1] ?? 1_000_000);
$osw = $argv[2] ?? null;

final class Plain
{
    public function nothing(): void
    {
    }
}

/** ns per call of $f($i), minus the loop's own cost. */
function per_call(int $n, callable $f): float
{
    $empty = static function (int $i): void {
    };
    $t0 = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        $empty($i);
    }
    $base = hrtime(true) - $t0;
    $t0 = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        $f($i);
    }
    return max(0, (hrtime(true) - $t0 - $base)) / $n;
}

$plain = new Plain();
$req = new Via\Request([
    'method' => 'GET',
    'uri' => '/board/42?tab=1&sort=new',
    'headers' => ['host' => 'example.test', 'accept' => 'text/html', 'x-via' => '1'],
]);
$table = new Via\Table(1024, ['n' => Via\Table::INT, 's' => [Via\Table::STRING, 64]]);
$keys = [];
for ($i = 0; $i < 100; $i++) {
    $keys[] = "key-$i";
    $table->set("key-$i", ['n' => 0, 's' => str_repeat('x', 64)]);
}
$sse = (new Via\Response())->sse();
$channel = new Via\Channel(1);

$cases = [
    'PHP method call (floor)' => fn ($i) => $plain->nothing(),
    'Request::path()' => fn ($i) => $req->path(),
    'Request::method()' => fn ($i) => $req->method(),
    'Request::header("accept")' => fn ($i) => $req->header('accept'),
    'Request::query("tab")' => fn ($i) => $req->query('tab'),
    'new Response + status + header + end' => function ($i) {
        $r = new Via\Response();
        $r->status(200)->header('content-type', 'text/plain')->end('hello');
    },
    'SSE::send (detached)' => fn ($i) => $i < 200_000 ? $sse->send('data', 'patch') : null,
    'Channel push + pop' => function ($i) use ($channel) {
        $channel->push($i);
        $channel->pop();
    },
    'Table::get(key)' => fn ($i) => $table->get($keys[$i % 100]),
    'Table::get(key, col)' => fn ($i) => $table->get($keys[$i % 100], 'n'),
    'Table::set' => fn ($i) => $table->set($keys[$i % 100], ['n' => $i, 's' => 'abc']),
    'Table::incr' => fn ($i) => $table->incr($keys[$i % 100], 'n', 1),
];

printf("%-40s %10s\n", 'call', 'ns/call');
foreach ($cases as $name => $f) {
    $calls = str_starts_with($name, 'SSE') ? min($n, 200_000) : $n;
    printf("%-40s %10.1f\n", $name, per_call($calls, $f));
}

if ($osw !== null) {
    $script = <<<'PHP'
        $t = new OpenSwoole\Table(1024);
        $t->column('n', OpenSwoole\Table::TYPE_INT);
        $t->column('s', OpenSwoole\Table::TYPE_STRING, 64);
        $t->create();
        $keys = [];
        for ($i = 0; $i < 100; $i++) { $keys[] = "key-$i"; $t->set("key-$i", ['n' => 0, 's' => str_repeat('x', 64)]); }
        $n = (int) $argv[1];
        $run = function (callable $f) use ($n) {
            $e = static function (int $i): void {};
            $t0 = hrtime(true); for ($i = 0; $i < $n; $i++) { $e($i); } $base = hrtime(true) - $t0;
            $t0 = hrtime(true); for ($i = 0; $i < $n; $i++) { $f($i); }
            return max(0, hrtime(true) - $t0 - $base) / $n;
        };
        printf("%-40s %10.1f\n", 'OpenSwoole\Table::get(key)', $run(fn ($i) => $t->get($keys[$i % 100])));
        printf("%-40s %10.1f\n", 'OpenSwoole\Table::get(key, col)', $run(fn ($i) => $t->get($keys[$i % 100], 'n')));
        printf("%-40s %10.1f\n", 'OpenSwoole\Table::set', $run(fn ($i) => $t->set($keys[$i % 100], ['n' => $i, 's' => 'abc'])));
        printf("%-40s %10.1f\n", 'OpenSwoole\Table::incr', $run(fn ($i) => $t->incr($keys[$i % 100], 'n', 1)));
        PHP;
    passthru(sprintf('php -n -d extension=%s -r %s %d', escapeshellarg($osw), escapeshellarg($script), $n));
}
