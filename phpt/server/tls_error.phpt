--TEST--
Via\Server::start(): missing, empty or mismatched certificate files fail clearly
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

$dir = sys_get_temp_dir() . '/via-tls-err-' . getmypid();
@mkdir($dir);
[$cert, $key] = via_test_cert($dir);
mkdir("$dir/other");
[, $otherKey] = via_test_cert("$dir/other");
file_put_contents("$dir/empty.pem", '');
$cases = [
    ['tls_cert' => "$dir/missing.pem", 'tls_key' => $key],
    ['tls_cert' => "$dir/empty.pem", 'tls_key' => $key],
    ['tls_cert' => $cert, 'tls_key' => "$dir/empty.pem"],
    ['tls_cert' => $cert, 'tls_key' => $otherKey],
    ['tls_cert' => $cert],
];
foreach ($cases as $opts) {
    try {
        (new Via\Server('127.0.0.1', 0, $opts + ['log_level' => 'off']))->onRequest(fn() => null)->start();
        echo "started?\n";
    } catch (Via\Exception $e) {
        echo get_class($e), ': ', str_replace($dir, 'DIR', $e->getMessage()), "\n";
    }
}
foreach (["$dir/other/cert.pem", "$dir/other/key.pem", "$dir/cert.pem", "$dir/key.pem", "$dir/empty.pem"] as $f) { unlink($f); }
rmdir("$dir/other");
rmdir($dir);
?>
--EXPECT--
Via\Exception: Via\Server::start(): cannot read tls_cert "DIR/missing.pem": No such file or directory (os error 2)
Via\Exception: Via\Server::start(): tls_cert "DIR/empty.pem" contains no certificate
Via\Exception: Via\Server::start(): tls_key "DIR/empty.pem" contains no private key
Via\Exception: Via\Server::start(): tls_key "DIR/other/key.pem" does not match the certificate in "DIR/cert.pem"
Via\Exception: Via\Server::start(): invalid configuration: option "tls_key": is required with tls_cert
