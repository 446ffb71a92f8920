<?php
// The via side of the SSE fan-out benchmark (bench/sse.py, client bench/sse_load.rs).
//   GET /events                        a stream that joins topic "bench"; VIA_BENCH_STREAMS
//                                      says what PHP keeps of it: "none" (the topic holds
//                                      it), "object" (its Via\SSE in an array, for the loop)
//                                      or "fiber" (the object and a fiber parked on it)
//   GET /count                         streams subscribed
//   GET /publish?round=R&mode=topic    one Server::publish() to the topic (Rust fan-out)
//   GET /publish?round=R&mode=loop     a PHP loop calling SSE::send() on every stream
declare(strict_types=1);

$port = (int) ($argv[1] ?? 8080);
$keep = getenv('VIA_BENCH_STREAMS') ?: 'object';
$server = new Via\Server('127.0.0.1', $port, [
    'log_level' => 'warn',
    'max_connections' => 30000,
    // VIA_BENCH_REACTOR=php: the PHP thread drives the I/O (no I/O thread of its own).
    'reactor' => getenv('VIA_BENCH_REACTOR') ?: 'auto',
]);
/** @var array<int, Via\SSE> $streams */
$streams = [];

$server->onRequest(function (Via\Request $req, Via\Response $res) use ($server, $keep, &$streams): void {
    switch ($req->path()) {
        case '/events':
            $sse = $res->sse();
            $sse->join('bench');
            if ($keep === 'none') {
                return;
            }
            $id = $sse->id();
            $sse->onClose(function () use ($id, &$streams): void {
                unset($streams[$id]);
            });
            $streams[$id] = $sse;
            if ($keep === 'fiber') {
                $sse->waitClosed();
            }
            return;
        case '/count':
            $res->end((string) $server->subscribers('bench'));
            return;
        case '/publish':
            $round = (string) $req->query('round');
            if ($req->query('mode') === 'loop') {
                $n = 0;
                foreach ($streams as $sse) {
                    $n += (int) $sse->send($round);
                }
            } else {
                $n = $server->publish('bench', $round);
            }
            $res->end((string) $n);
            return;
    }
    $res->status(404)->end();
});
$server->start();
