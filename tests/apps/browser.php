<?php
// The page the headless-browser test (tests/browser.rs) opens over HTTPS + HTTP/2: an
// EventSource on a Brotli-compressed stream with heartbeats in between its events.
declare(strict_types=1);

$options = json_decode(getenv('VIA_TEST_OPTIONS') ?: '{}', true, 8, JSON_THROW_ON_ERROR);
$server = new Via\Server('127.0.0.1', 0, $options + ['log_level' => 'info', 'sse_heartbeat' => 0.5]);
$closed = new Via\Channel(100);
$streams = [];

$page = <<<'HTML'
<!doctype html>
<meta charset="utf-8">
<title>via sse</title>
<script>
window.received = [];
window.errors = 0;
const es = new EventSource('/events');
es.addEventListener('tick', e => window.received.push(e.data));
es.onerror = () => window.errors++;
</script>
HTML;

$server->onRequest(function (Via\Request $req, Via\Response $res) use ($page, $closed, &$streams): void {
    switch ($req->path()) {
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
            $res->end((string) json_encode($closed->pop(10.0)));
            return;
    }
    $res->status(404)->end();
});
$server->start();
