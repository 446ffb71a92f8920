--TEST--
Via\Server::publish(), subscribers(): not running, bad event name
--FILE--
<?php
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

require __DIR__ . '/../serve.inc';
$idle = new Via\Server();
show(fn() => $idle->publish('t', 'x'));
show(fn() => $idle->subscribers('t'));
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res) use ($server): void {
    try {
        $server->publish('t', 'x', "a\nb");
        $res->end('no error');
    } catch (ValueError $e) {
        $res->end(get_class($e) . ': ' . $e->getMessage());
    }
}, function (int $port): void {
    echo via_get($port, '/')[2], "\n";
});
?>
--EXPECT--
Via\Exception: Via\Server::publish(): the server is not running
no error: 0
ValueError: Via\Server::publish(): the event name must not contain CR or LF
