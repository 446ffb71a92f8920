--TEST--
Via\SSE::lastEventId(): the Last-Event-ID the client reconnected with
--FILE--
<?php
require __DIR__ . '/../serve.inc';
var_dump((new Via\Response())->sse()->lastEventId());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'compression' => false]);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $sse = $res->sse();
    $sse->send(var_export($sse->lastEventId(), true));
    $sse->close();
}, function (int $port): void {
    echo via_get($port, '/', ['Last-Event-ID' => '17'])[2];
    echo via_get($port, '/')[2];
});
?>
--EXPECT--
NULL
data: '17'

data: NULL
