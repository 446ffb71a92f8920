<?php
// bench/stall.py's server: php -d extension=via.so stall.php PORT REACTOR. GET /block keeps
// the PHP thread in usleep() for 0.5 s (no yield to the loop); /end-then-block answers first,
// then does the same; /health is the runtime's own.
declare(strict_types=1);

$server = new Via\Server('127.0.0.1', (int) $argv[1], [
    'log_level' => 'warn',
    'health_path' => '/health',
    'reactor' => $argv[2] ?? 'auto',
]);
$server->onRequest(function (Via\Request $request, Via\Response $response): void {
    if ($request->path() === '/end-then-block') {
        $response->end('ok');
        usleep(500000);
        return;
    }
    if ($request->path() === '/block') {
        usleep(500000);
    }
    $response->end('ok');
});
$server->start();
