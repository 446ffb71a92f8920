<?php
// The multi-worker application tests/workers.rs drives: identity, slow requests, a shared
// table, SSE topics across workers, a broker (workers://, or VIA_TEST_BROKER: a shared
// Redis or NATS). Options: VIA_TEST_OPTIONS (JSON).
declare(strict_types=1);

$options = json_decode(getenv('VIA_TEST_OPTIONS') ?: '{}', true, 8, JSON_THROW_ON_ERROR);
$server = new Via\Server('127.0.0.1', 0, $options + ['workers' => 2, 'log_level' => 'info']);
$table = new Via\Table(64, ['n' => Via\Table::INT]);
$broker = new Via\Broker(getenv('VIA_TEST_BROKER') ?: 'workers://');
$brokerErrors = [];
$broker->onError(function (Via\BrokerException $e) use (&$brokerErrors): void {
    $brokerErrors[] = $e->getMessage();
});
$received = [];
$flooded = 0;

$server->onWorkerStart(function (Via\Server $s, int $id) use ($broker, &$received, &$flooded): void {
    $broker->subscribe('flood', function () use (&$flooded): void {
        $flooded++;
    });
    $broker->subscribe('news', function (string $payload, string $topic, int $origin) use (&$received): void {
        $received[] = ['payload' => $payload, 'topic' => $topic, 'origin' => $origin];
    });
    $broker->subscribe('others', function (string $payload, string $topic, int $origin) use (&$received): void {
        $received[] = ['payload' => $payload, 'topic' => $topic, 'origin' => $origin];
    }, own: false);
    fwrite(STDERR, "worker $id up pid " . getmypid() . "\n");
});
$server->onWorkerStop(function (Via\Server $s, int $id): void {
    fwrite(STDERR, "worker $id down pid " . getmypid() . "\n");
});

$json = function (Via\Response $res, array $data): void {
    $res->header('Content-Type', 'application/json');
    $res->end(json_encode($data));
};

$server->onRequest(function (Via\Request $req, Via\Response $res) use ($server, $table, $broker, &$received, &$flooded, &$brokerErrors, $json): void {
    $me = ['worker' => $server->workerId(), 'pid' => getmypid()];
    switch ($req->path()) {
        case '/':
            $json($res, $me);
            return;
        case '/slow':
            $table->incr('slow-started', 'n');
            Via\sleep(((int) $req->query('ms', 500)) / 1000);
            $json($res, $me);
            return;
        case '/slow-started':
            $json($res, $me + ['n' => $table->get('slow-started', 'n') ?? 0]);
            return;
        case '/count':
            $json($res, $me + ['n' => $table->incr('requests', 'n')]);
            return;
        case '/publish':
            $broker->publish((string) $req->query('topic', 'news'), (string) $req->query('msg', ''));
            $json($res, $me);
            return;
        case '/flood':
            // n messages of size bytes to 'flood', which every worker counts.
            $msg = str_repeat('x', (int) $req->query('size', 1024));
            for ($i = (int) $req->query('n', 1); $i > 0; $i--) {
                $broker->publish('flood', $msg);
            }
            $json($res, $me);
            return;
        case '/write':
            // ?mib= MiB (64 at most) in ?chunk= byte write()s, until the client is cut off;
            // /written then says how many bytes were written.
            $table->del('written');
            $chunk = str_repeat('w', max(1, min(65536, (int) $req->query('chunk', 65536))));
            $total = min(64, (int) $req->query('mib', 1)) << 20;
            for ($sent = 0; $sent < $total && $res->write($chunk); $sent += strlen($chunk)) {
            }
            $res->end();
            $table->set('written', ['n' => $sent]);
            return;
        case '/write-once':
            // One write() of ?mib= MiB (64 at most), then as /write.
            $table->del('written');
            $ok = $res->write(str_repeat('o', min(64, (int) $req->query('mib', 1)) << 20));
            $res->end();
            $table->set('written', ['n' => $ok ? 1 : 0]);
            return;
        case '/written':
            $json($res, $me + ['n' => $table->get('written', 'n')]);
            return;
        case '/flooded':
            $json($res, $me + ['n' => $flooded, 'blocked' => $table->get('blocked', 'n') ?? 0]);
            return;
        case '/block':
            // Blocks this worker's PHP thread (no fiber switch) for ms milliseconds.
            $table->incr('blocked', 'n');
            usleep((int) $req->query('ms', 1000) * 1000);
            $json($res, $me);
            return;
        case '/broker':
            $json($res, $me + ['connected' => $broker->isConnected(), 'errors' => $brokerErrors, 'stats' => $broker->stats()]);
            return;
        case '/received':
            $json($res, $me + ['received' => $received]);
            return;
        case '/events-then-send':
            // Joins 'room' and says "ready"; once /go was asked, sends ?n= events of 4000
            // bytes as the backpressure policy lets it; /written then says how many went.
            $table->del('written');
            $table->del('go');
            $sse = $res->sse();
            $sse->join('room');
            $sse->send('ready', 'ready');
            while (($table->get('go', 'n') ?? 0) === 0 && $sse->isOpen()) {
                Via\sleep(0.01);
            }
            $chunk = str_repeat('s', 4000);
            for ($i = 0, $n = (int) $req->query('n', 32); $i < $n && $sse->send($chunk); $i++) {
            }
            $table->set('written', ['n' => $i]);
            return;
        case '/go':
            $table->set('go', ['n' => 1]);
            $json($res, $me);
            return;
        case '/events':
            $sse = $res->sse();
            $sse->send((string) $server->workerId(), 'hello');
            $sse->join('room');
            return;
        case '/subscribers':
            $json($res, $me + ['n' => $server->subscribers('room')]);
            return;
        case '/topic':
            $json($res, $me + ['reached' => $server->publish('room', (string) $req->query('msg', ''), 'news')]);
            return;
        case '/stats':
            $json($res, $server->stats());
            return;
        case '/identity':
            $json($res, $me + ['count' => $server->workerCount(), 'master' => $server->masterPid()]);
            return;
        case '/fields': // what the worker got of the request's fields, in hex (values are bytes)
            $hex = fn (array $values): array => array_map('bin2hex', $values);
            $json($res, [
                'x-a' => $hex($req->headerValues('x-a')),
                'x-empty' => $req->hasHeader('x-empty') ? bin2hex((string) $req->header('x-empty')) : null,
                'x-tab' => bin2hex((string) $req->header('x-tab')),
                'x-obs' => bin2hex((string) $req->header('x-obs')),
                'all' => array_map('bin2hex', $req->headers()),
            ]);
            return;
    }
    $res->status(404)->end();
});
$server->start();
echo "master returned\n";
// Whatever start() left behind (a forker, a worker, a zombie) is still a child here.
$children = [];
foreach (glob('/proc/' . getmypid() . '/task/*/children') ?: [] as $file) {
    // A thread still winding down may be gone between the glob and the read: it has no
    // children then (and no warning belongs in the output the test reads).
    $listed = @file_get_contents($file);
    $children = array_merge($children, preg_split('/\s+/', trim((string) $listed), -1, PREG_SPLIT_NO_EMPTY));
}
echo 'children after start: [', implode(' ', $children), "]\n";
