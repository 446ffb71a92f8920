<?php
// The application the end-to-end tests (tests/e2e.rs) drive with curl, h2load and raw
// sockets. Options come as JSON in VIA_TEST_OPTIONS; VIA_TEST_REACTOR=php runs the suite
// with the PHP thread driving the I/O (scripts/test.sh runs it both ways).
declare(strict_types=1);

$options = json_decode(getenv('VIA_TEST_OPTIONS') ?: '{}', true, 8, JSON_THROW_ON_ERROR);
if (getenv('VIA_TEST_REACTOR')) {
    $options += ['reactor' => getenv('VIA_TEST_REACTOR')];
}
$server = new Via\Server('127.0.0.1', 0, $options + ['log_level' => 'info']);

$server->onRequest(function (Via\Request $req, Via\Response $res) use ($server): void {
    switch ($req->path()) {
        case '/hello':
            $res->header('Content-Type', 'text/plain');
            $res->end('Hello, World!');
            return;
        case '/echo':
            $res->header('Content-Type', 'application/json');
            $res->end(json_encode([
                'method' => $req->method(),
                'protocol' => $req->protocolVersion(),
                'query' => $req->query(),
                'post' => $req->post(),
                'body_length' => strlen($req->body()),
                'body_md5' => md5($req->body()),
            ]));
            return;
        case '/upload':
            $files = $req->files();
            $out = [];
            foreach ($files as $field => $f) {
                $out[$field] = ['name' => $f['name'], 'size' => $f['size'], 'error' => $f['error'],
                    'md5' => is_file($f['tmp_name']) ? md5_file($f['tmp_name']) : null, 'tmp' => $f['tmp_name']];
            }
            $res->header('Content-Type', 'application/json');
            $res->end(json_encode(['files' => $out, 'post' => $req->post()]));
            return;
        case '/slow':
            Via\sleep(((int) $req->query('ms', 100)) / 1000);
            $res->end('slow done');
            if ($req->query('say') !== null) {
                echo "slow handler {$req->query('say')} done\n";
            }
            return;
        case '/stream':
            $n = (int) $req->query('n', 3);
            for ($i = 0; $i < $n; $i++) {
                $res->write("chunk $i\n");
                Via\sleep(0.01);
            }
            $res->end();
            return;
        case '/flood':
            // Writes ?mib= MiB (64 at most) in ?chunk= byte writes, or until the client
            // is gone or cut off; /flood-result then tells how it ended.
            $chunk = str_repeat('f', max(1, min(65536, (int) $req->query('chunk', 65536))));
            $total = min(64, (int) $req->query('mib', 64)) << 20;
            for ($sent = 0, $ok = true; $ok && $sent < $total; $sent += strlen($chunk)) {
                $ok = $res->write($chunk);
            }
            $GLOBALS['flood'] = ['ok' => $ok, 'sent' => $sent];
            $res->end();
            return;
        case '/big':
            // One whole body of ?mib= MiB (64 at most), given at once by end().
            $res->end(str_repeat('b', min(64, (int) $req->query('mib', 1)) << 20));
            return;
        case '/flood-result':
            $res->header('Content-Type', 'application/json');
            $res->end(json_encode($GLOBALS['flood'] ?? null));
            return;
        case '/publish':
            $res->end((string) $server->publish('room', (string) $req->query('data', '')));
            return;
        case '/room':
            // An event stream that only listens (issue 8, D1).
            $res->sse()->join('room');
            return;
        case '/shape':
            // A response shaped as odd PHP code would shape it (issue 8, D2).
            $res->status((int) $req->query('status', 200));
            if ($req->query('te') !== null) {
                $res->header('Transfer-Encoding', 'chunked');
            }
            if ($req->query('cl') !== null) {
                $res->header('Content-Length', (string) $req->query('cl'));
            }
            if ($req->query('date') !== null) {
                $res->header('Date', 'Mon, 01 Jan 2024 00:00:00 GMT');
            }
            if ($req->query('write') !== null) {
                $res->write((string) $req->query('data', ''));
                $res->end();
            } else {
                $res->end((string) $req->query('data', ''));
            }
            return;
        case '/stats':
            $res->header('Content-Type', 'application/json');
            $res->end(json_encode($server->stats()));
            return;
    }
    $res->status(404)->end('not found');
});
$server->start();
echo "stopped cleanly\n";
