<?php
// via hello-world for bench/http.py and bench/h2.py: php -d extension=via.so hello.php PORT
// With VIA_BENCH_CERT and VIA_BENCH_KEY set it serves HTTPS (ALPN h2, http/1.1); with
// VIA_BENCH_WORKERS=N, N worker processes behind a master (VIA_BENCH_DISPATCH=connection:
// each worker accepts and serves its own connections); VIA_BENCH_REACTOR=php, the
// PHP thread drives the I/O; VIA_BENCH_OPS=1, metrics on (metrics_path) and a JSON
// access log written to VIA_BENCH_ACCESS_LOG (default /tmp/via-bench-access.log);
// VIA_BENCH_OPS=metrics or =log, one of the two.
declare(strict_types=1);

$options = [
    'log_level' => 'warn',
    'workers' => (int) (getenv('VIA_BENCH_WORKERS') ?: 1),
    'dispatch' => getenv('VIA_BENCH_DISPATCH') ?: 'sticky',
    'reactor' => getenv('VIA_BENCH_REACTOR') ?: 'auto',
];
$ops = getenv('VIA_BENCH_OPS') ?: '';
if ($ops === '1' || $ops === 'metrics') {
    $options += ['metrics_path' => '/metrics', 'health_path' => '/health'];
}
if ($ops === '1' || $ops === 'log') {
    $log = getenv('VIA_BENCH_ACCESS_LOG') ?: '/tmp/via-bench-access.log';
    @unlink($log); // a fresh file each run: a 10 s run writes a few hundred MB
    $options += ['access_log' => $log, 'access_log_format' => 'json'];
}
if (getenv('VIA_BENCH_CERT')) {
    $options += ['tls_cert' => getenv('VIA_BENCH_CERT'), 'tls_key' => getenv('VIA_BENCH_KEY')];
}
$server = new Via\Server('127.0.0.1', (int) ($argv[1] ?? 8080), $options);
$server->onRequest(function (Via\Request $request, Via\Response $response): void {
    $response->header('Content-Type', 'text/plain');
    $response->end('Hello, World!');
});
$server->start();
