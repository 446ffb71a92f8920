<?php
// A server whose workers die at start (memory_limit fatal error): tests/workers.rs checks
// that the master stops with a clear error instead of forking forever.
declare(strict_types=1);

$options = json_decode(getenv('VIA_TEST_OPTIONS') ?: '{}', true, 8, JSON_THROW_ON_ERROR);
$server = new Via\Server('127.0.0.1', 0, $options + ['workers' => 2, 'log_level' => 'info']);
$server->onWorkerStart(function (): void {
    ini_set('memory_limit', '4M');
    $blocks = [];
    while (true) {
        $blocks[] = str_repeat('x', 1 << 20);
    }
});
$server->onRequest(fn (Via\Request $req, Via\Response $res) => $res->end('never'));
try {
    $server->start();
} catch (Via\Exception $e) {
    fwrite(STDERR, "start() threw: " . $e->getMessage() . "\n");
    exit(3);
}
