<?php
// The server that scripts/pgo/train.sh runs an instrumented via.so under: the runtime's hot
// paths, each reached by its load (HTTP/1.1, h2c, TLS + h2, workers, operations, static
// files with Brotli, event streams joined to a topic or kept by PHP, plain or compressed).
//   GET /                a short text answer
//   POST /action         a JSON body decoded, 204 (a framework action's shape)
//   GET /page?tab=…      query, headers and a cookie read, a cookie set, a compressible
//                        HTML page of ~6 KB
//   GET /events          an event stream joined to topic "t"; its Via\SSE is kept in PHP
//   GET /count           streams subscribed
//   GET /publish?round=R&mode=topic|loop   one Server::publish(), or a loop of send()
//   static files from php/public (datastar.js, via.css)
// Usage: php -d extension=via.so app.php PORT, with VIA_PGO_REACTOR, VIA_PGO_WORKERS,
// VIA_PGO_DISPATCH, VIA_PGO_CERT/VIA_PGO_KEY (HTTPS) and VIA_PGO_OPS=1 (metrics, health,
// a JSON access log to /dev/null).
declare(strict_types=1);

$options = [
    'log_level' => 'warn',
    'reactor' => getenv('VIA_PGO_REACTOR') ?: 'auto',
    'workers' => (int) (getenv('VIA_PGO_WORKERS') ?: 1),
    'dispatch' => getenv('VIA_PGO_DISPATCH') ?: 'sticky',
    'static_dir' => dirname(__DIR__, 2) . '/php/public',
    'static_prefix' => '/static',
];
if (getenv('VIA_PGO_CERT')) {
    $options += ['tls_cert' => getenv('VIA_PGO_CERT'), 'tls_key' => getenv('VIA_PGO_KEY')];
}
if (getenv('VIA_PGO_OPS')) {
    $options += ['metrics_path' => '/metrics', 'health_path' => '/health',
        'access_log' => '/dev/null', 'access_log_format' => 'json'];
}
$server = new Via\Server('127.0.0.1', (int) ($argv[1] ?? 8080), $options);
$page = '<!doctype html><title>pgo</title>' . str_repeat('<p class="row">a line of the page</p>', 150);
/** @var array<int, Via\SSE> $streams */
$streams = [];

$server->onRequest(function (Via\Request $req, Via\Response $res) use ($server, $page, &$streams): void {
    switch ($req->path()) {
        case '/':
            $res->header('Content-Type', 'text/plain');
            $res->end('Hello, World!');
            return;
        case '/action':
            $signals = json_decode($req->body(), true, 16, JSON_THROW_ON_ERROR);
            $res->status(204);
            $res->end();
            return;
        case '/page':
            $tab = (string) $req->query('tab', 'none') . (string) $req->cookie('session', '') . (string) $req->header('user-agent');
            $res->cookie('session', substr(md5($tab), 0, 16));
            $res->header('Content-Type', 'text/html; charset=utf-8');
            $res->end($page);
            return;
        case '/events':
            $sse = $res->sse();
            $sse->join('t');
            $id = $sse->id();
            $sse->onClose(function () use ($id, &$streams): void {
                unset($streams[$id]);
            });
            $streams[$id] = $sse;
            return;
        case '/count':
            $res->end((string) $server->subscribers('t'));
            return;
        case '/publish':
            $round = (string) $req->query('round');
            $n = 0;
            if ($req->query('mode') === 'loop') {
                foreach ($streams as $sse) {
                    $n += (int) $sse->send($round);
                }
            } else {
                $n = $server->publish('t', $round);
            }
            $res->end((string) $n);
            return;
    }
    $res->status(404)->end();
});
$server->start();
