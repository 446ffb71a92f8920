--TEST--
Via\Server: TLS from PEM files (tls_cert, tls_key); requests see the https scheme
--FILE--
<?php
function via_test_cert(string $dir): array {
    $key = openssl_pkey_new(['private_key_type' => OPENSSL_KEYTYPE_EC, 'curve_name' => 'prime256v1']);
    $csr = openssl_csr_new(['commonName' => 'localhost'], $key, ['digest_alg' => 'sha256']);
    $cert = openssl_csr_sign($csr, null, $key, 1, ['digest_alg' => 'sha256']);
    openssl_x509_export($cert, $certPem);
    openssl_pkey_export($key, $keyPem);
    file_put_contents("$dir/cert.pem", $certPem);
    file_put_contents("$dir/key.pem", $keyPem);
    return ["$dir/cert.pem", "$dir/key.pem"];
}

require __DIR__ . '/../serve.inc';
$dir = sys_get_temp_dir() . '/via-tls-' . getmypid();
@mkdir($dir);
[$cert, $key] = via_test_cert($dir);
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'tls_cert' => $cert, 'tls_key' => $key]);
$portFile = tempnam(sys_get_temp_dir(), 'via-phpt');
$pid = pcntl_fork();
if ($pid === 0) {
    while (($port = (int) @file_get_contents($portFile)) === 0) { usleep(5000); }
    $ctx = stream_context_create(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]]);
    $s = stream_socket_client("tls://127.0.0.1:$port", $errno, $errstr, 5, STREAM_CLIENT_CONNECT, $ctx);
    fwrite($s, "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    echo explode("\r\n\r\n", stream_get_contents($s), 2)[1], "\n";
    $s = stream_socket_client("tls://127.0.0.1:$port", $errno, $errstr, 5, STREAM_CLIENT_CONNECT, $ctx);
    fwrite($s, "GET /stop HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    stream_get_contents($s);
    exit(0);
}
$server->onStart(fn(Via\Server $s) => file_put_contents($portFile, (string) $s->port()));
$server->onRequest(function (Via\Request $req, Via\Response $res) use ($server): void {
    $res->end($req->scheme() . ' ' . $req->protocolVersion());
    if ($req->path() === '/stop') {
        $server->stop();
    }
});
$server->start();
pcntl_waitpid($pid, $status);
array_map('unlink', glob("$dir/*"));
rmdir($dir);
?>
--EXPECT--
https 1.1
