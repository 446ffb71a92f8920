<?php
// via JSON action for bench/http.py: POST a ~100-byte JSON body, decode it, bump a
// counter, answer 204 — the shape of a framework action request. VIA_BENCH_REACTOR=php:
// the PHP thread drives the I/O.
declare(strict_types=1);

$counter = 0;
$options = ['log_level' => 'warn', 'reactor' => getenv('VIA_BENCH_REACTOR') ?: 'auto'];
$server = new Via\Server('127.0.0.1', (int) ($argv[1] ?? 8080), $options);
$server->onRequest(function (Via\Request $request, Via\Response $response) use (&$counter): void {
    $signals = json_decode($request->body(), true, 16, JSON_THROW_ON_ERROR);
    $counter += (int) ($signals['step'] ?? 1);
    $response->status(204);
    $response->end();
});
$server->start();
