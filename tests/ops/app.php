<?php
// The app of the operations tests (tests/ops): a server on 127.0.0.1:$VIA_OPS_PORT whose
// options are the JSON object in $VIA_OPS_OPTIONS.
//   /         "hello"
//   /who      what the request says about its client and trace context, as JSON
//   /slow     answers after ?s= seconds (default 5): past any short request_timeout
//   /noanswer returns without answering: the runtime answers 500
//   /hit      counts ?k= in a Via\Table of 64 rows (for via_table_* metrics)
//   /pid      the process id of the worker that answers
//   /events   an event stream joined to the topic ?t= (default "news")
//   /publish  publishes ?n= events (default 1) of ?size= bytes (default 5) to the topic ?t=
//   /broker   publishes ?m= on the broker of $VIA_OPS_BROKER (a DSN), topic "ops"
//   anything else: 404 from the application
declare(strict_types=1);

$port = (int) (getenv('VIA_OPS_PORT') ?: '0');
$options = json_decode(getenv('VIA_OPS_OPTIONS') ?: '{}', true, 16, JSON_THROW_ON_ERROR);
$server = new Via\Server('127.0.0.1', $port, $options);
$hits = new Via\Table(64, ['n' => Via\Table::INT]);
$broker = getenv('VIA_OPS_BROKER') ? new Via\Broker(getenv('VIA_OPS_BROKER')) : null;
$broker?->onError(fn (Via\BrokerException $e) => null); // a broker stopped by the test
$server->onWorkerStart(function () use ($broker): void {
    $broker?->subscribe('ops', fn (string $payload) => null);
});

$server->onRequest(function (Via\Request $req, Via\Response $res) use ($hits, $server, $broker): void {
    switch ($req->path()) {
        case '/':
            $res->header('Content-Type', 'text/plain');
            $res->end('hello');
            return;
        case '/who':
            $res->header('Content-Type', 'application/json');
            $res->end(json_encode([
                'remote' => $req->remoteAddress(),
                'trace_id' => $req->traceId(),
                'span_id' => $req->spanId(),
                'parent' => $req->parentSpanId(),
                'traceparent' => $req->traceparent(),
                'request_id' => $req->requestId(),
            ], JSON_THROW_ON_ERROR));
            return;
        case '/slow':
            // The task sleeps; the runtime answers 504 once request_timeout has passed.
            Via\sleep((float) $req->query('s', '5'));
            $res->end('late');
            return;
        case '/noanswer':
            return;
        case '/hit':
            $res->end((string) $hits->incr((string) $req->query('k', 'none'), 'n'));
            return;
        case '/pid':
            $res->end((string) getmypid());
            return;
        case '/events':
            $res->sse()->join((string) $req->query('t', 'news'));
            return;
        case '/publish':
            $data = str_repeat('x', (int) $req->query('size', '5'));
            $delivered = 0;
            for ($i = (int) $req->query('n', '1'); $i > 0; $i--) {
                $delivered += $server->publish((string) $req->query('t', 'news'), $data);
            }
            $res->end((string) $delivered);
            return;
        case '/broker':
            $broker->publish('ops', (string) $req->query('m', 'm'));
            $res->end('published');
            return;
        default:
            $res->status(404);
            $res->end('no such page');
    }
});

$server->start();
