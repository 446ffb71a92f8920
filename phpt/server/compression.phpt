--TEST--
Via\Server: responses are compressed as the client accepts (Brotli, gzip), with Vary
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->header('Content-Type', $req->path() === '/png' ? 'image/png' : 'text/html');
    $res->end(str_repeat('<p>via</p>', 500));
}, function (int $port): void {
    foreach ([['/', 'br'], ['/', 'gzip'], ['/', null], ['/png', 'br']] as [$path, $ae]) {
        [$status, $h, $body] = via_get($port, $path, $ae ? ['Accept-Encoding' => $ae] : []);
        $decoded = match ($h['content-encoding'][0] ?? null) {
            'gzip' => gzdecode($body),
            'br' => 'br:' . strlen($body) . ' bytes',
            default => 'plain:' . strlen($body),
        };
        echo ($h['content-encoding'][0] ?? 'none'), ' ', ($h['vary'][0] ?? '-'), ' ', strlen($decoded) > 100 ? strlen($decoded) : $decoded, "\n";
    }
});
?>
--EXPECTF--
br accept-encoding br:%d bytes
gzip accept-encoding 5000
none accept-encoding plain:5000
none - plain:5000
