--TEST--
Via\SSE::encoding(): Brotli or gzip as the client accepts, identity otherwise
--FILE--
<?php
require __DIR__ . '/../serve.inc';
var_dump((new Via\Response())->sse()->encoding());
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $sse = $res->sse();
    $sse->send($sse->encoding());
    $sse->close();
}, function (int $port): void {
    foreach (['gzip, deflate, br', 'gzip', 'br;q=0, gzip;q=0', ''] as $ae) {
        [$status, $h, $body] = via_get($port, '/', $ae === '' ? [] : ['Accept-Encoding' => $ae]);
        echo ($h['content-encoding'][0] ?? 'none'), ' ';
    }
    echo "\n";
});
?>
--EXPECT--
string(8) "identity"
br gzip none none
