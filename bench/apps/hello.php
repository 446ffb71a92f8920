<?php
// via hello-world for bench/http.py: php -d extension=via.so hello.php PORT
declare(strict_types=1);

$server = new Via\Server('127.0.0.1', (int) ($argv[1] ?? 8080), ['log_level' => 'warn']);
$server->onRequest(function (Via\Request $request, Via\Response $response): void {
    $response->header('Content-Type', 'text/plain');
    $response->end('Hello, World!');
});
$server->start();
