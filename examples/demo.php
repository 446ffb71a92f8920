<?php
/**
 * The via demo: one PHP process, pooled fibers, a live stream and a JSON action.
 *
 *   php -d extension=/abs/path/via.so examples/demo.php [port]
 *
 * GET  /            a page with a live clock (a streamed text/event-stream) and a counter
 * GET  /clock       the stream: one event per second, until the client leaves
 * POST /increment   JSON {"step": n} -> {"count": total}
 * POST /upload      multipart form -> what was received
 * GET  /stats       server counters
 */
declare(strict_types=1);

$port = (int) ($argv[1] ?? (getenv('VIA_PORT') === false ? 3000 : getenv('VIA_PORT')));
$server = new Via\Server('127.0.0.1', $port, ['log_level' => getenv('VIA_LOG_LEVEL') ?: 'info']);
$count = 0;

$page = <<<'HTML'
<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>via demo</title>
<style>body{font:16px system-ui;margin:3rem auto;max-width:40rem} output{font-weight:bold}</style>
<h1>via</h1>
<p>Server time: <output id="clock">…</output> (a stream that stays open while PHP serves others)</p>
<p>Count: <output id="count">0</output> <button id="inc">+1</button></p>
<form method="post" action="/upload" enctype="multipart/form-data">
  <input type="file" name="file"> <button>Upload</button>
</form>
<script>
const clock = new EventSource('/clock');
clock.addEventListener('tick', e => document.getElementById('clock').textContent = e.data);
document.getElementById('inc').onclick = async () => {
  const r = await fetch('/increment', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"step":1}'});
  document.getElementById('count').textContent = (await r.json()).count;
};
</script>
HTML;

$server->onRequest(function (Via\Request $req, Via\Response $res) use ($server, $page, &$count): void {
    switch ($req->method() . ' ' . $req->path()) {
        case 'GET /':
            $res->header('Content-Type', 'text/html; charset=utf-8');
            $res->end($page);
            return;

        case 'GET /clock':
            $res->header('Content-Type', 'text/event-stream');
            $res->header('Cache-Control', 'no-cache');
            $res->write("retry: 2000\n\n");
            // Each iteration suspends this task for a second; the PHP thread serves
            // other requests meanwhile. write() returns false once the client is gone.
            while ($res->write('event: tick' . "\n" . 'data: ' . date('H:i:s') . "\n\n")) {
                Via\sleep(1.0);
            }
            return;

        case 'POST /increment':
            $signals = json_decode($req->body(), true) ?: [];
            $count += (int) ($signals['step'] ?? 1);
            $res->header('Content-Type', 'application/json');
            $res->end(json_encode(['count' => $count]));
            return;

        case 'POST /upload':
            $files = array_map(fn(array $f) => ['name' => $f['name'], 'size' => $f['size']], $req->files());
            $res->header('Content-Type', 'application/json');
            $res->end(json_encode(['files' => $files, 'fields' => $req->post()], JSON_PRETTY_PRINT));
            return;

        case 'GET /stats':
            $res->header('Content-Type', 'application/json');
            $res->end(json_encode($server->stats(), JSON_PRETTY_PRINT));
            return;
    }
    $res->status(404)->header('Content-Type', 'text/plain')->end("Not Found\n");
});

$server->onStart(function (Via\Server $s): void {
    fwrite(STDERR, "via demo on http://{$s->host()}:{$s->port()}/ — Ctrl-C to stop\n");
});
$server->start();
