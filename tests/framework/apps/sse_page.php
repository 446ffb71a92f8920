<?php
/**
 * The runtime alone, no framework, in a real browser (tests/framework/test_runtime_browser.py):
 * a page whose EventSource reads a Brotli-compressed stream over HTTPS + HTTP/2, with
 * heartbeats between its two events. When the tab closes, the stream's onClose pushes what
 * the stream saw to a channel that GET /closed pops.
 *
 * Usage: VIA_TLS_CERT=… VIA_TLS_KEY=… php -d extension=…/libvia.so tests/framework/apps/sse_page.php PORT
 */
declare(strict_types=1);

$port = (int) ($argv[1] ?? 3000);
$server = new Via\Server('127.0.0.1', $port, [
    'tls_cert' => (string) getenv('VIA_TLS_CERT'),
    'tls_key' => (string) getenv('VIA_TLS_KEY'),
    'sse_heartbeat' => 0.5,
]);
$closed = new Via\Channel(100);

$page = <<<'HTML'
<!doctype html>
<meta charset="utf-8">
<title>via sse</title>
<ul id="received"></ul>
<p>errors: <span id="errors">0</span></p>
<script>
let errors = 0;
const es = new EventSource('/events');
es.addEventListener('tick', e => {
  const li = document.createElement('li');
  li.textContent = e.data;
  document.getElementById('received').append(li);
});
es.onerror = () => { document.getElementById('errors').textContent = String(++errors); };
</script>
HTML;

$server->onRequest(function (Via\Request $req, Via\Response $res) use ($page, $closed): void {
    switch ($req->path()) {
        case '/_health': // the fixture's readiness probe
            $res->header('Content-Type', 'application/json');
            $res->end('{}');
            return;
        case '/':
            $res->header('Content-Type', 'text/html; charset=utf-8');
            $res->end($page);
            return;
        case '/events':
            $sse = $res->sse();
            $info = ['encoding' => $sse->encoding(), 'protocol' => $req->protocolVersion()];
            $sse->onClose(function () use ($closed, $info): void {
                $closed->push(json_encode($info));
            });
            $sse->send('first', 'tick');
            Via\sleep(1.6); // three heartbeats go through the Brotli stream meanwhile
            $sse->send('second', 'tick');
            $sse->join('keep'); // the stream stays after the handler returns
            return;
        case '/closed':
            $res->header('Content-Type', 'application/json');
            $info = $closed->pop(10.0); // a string, or Via\ChannelState::Timeout
            $res->end(is_string($info) ? $info : 'null');
            return;
    }
    $res->status(404)->end();
});
$server->start();
