--TEST--
Via\Server: static_dir and static_prefix serve files without entering PHP
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$dir = sys_get_temp_dir() . '/via-static-' . getmypid();
@mkdir("$dir/js", 0777, true);
file_put_contents("$dir/js/app.js", 'console.log(1);');
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off', 'static_dir' => $dir, 'static_prefix' => '/assets',
    'static_cache_control' => 'no-cache']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->end('php saw ' . $req->path());
}, function (int $port): void {
    [$status, $h, $body] = via_get($port, '/assets/js/app.js');
    echo "$status | {$h['content-type'][0]} | {$h['cache-control'][0]} | $body\n";
    [$status] = via_get($port, '/assets/js/app.js', ['If-None-Match' => $h['etag'][0]]);
    echo "$status\n";
    echo via_get($port, '/assets/missing.js')[2], "\n";
    echo via_get($port, '/assets/../etc/passwd')[0], "\n";
});
unlink("$dir/js/app.js");
rmdir("$dir/js");
rmdir($dir);
?>
--EXPECT--
HTTP/1.1 200 OK | text/javascript; charset=utf-8 | no-cache | console.log(1);
HTTP/1.1 304 Not Modified
php saw /assets/missing.js
HTTP/1.1 404 Not Found
