--TEST--
Via\Server::__construct(), start(): bad values of health_path, metrics_path, metrics_listen, access_log, access_log_format, rate_limit, rate_limit_burst, trusted_proxies, error_pages
--FILE--
<?php
$tmp = sys_get_temp_dir();
foreach ([
    ['health_path' => 'health'],
    ['health_path' => '/a?b'],
    ['health_path' => '/a#b'],
    ['health_path' => '/a\\b'],
    ['health_path' => '/a/../b'],
    ['health_path' => '/a b'],
    ['health_path' => 5],
    ['health_path' => null],
    ['metrics_path' => 'metrics'],
    ['metrics_path' => '/m?x=1'],
    ['metrics_path' => []],
    ['metrics_listen' => 'nope'],
    ['metrics_listen' => ':9090'],
    ['metrics_listen' => '127.0.0.1:'],
    ['metrics_listen' => '127.0.0.1:70000'],
    ['metrics_listen' => 9090],
    ['access_log' => '/nonexistent/dir/access.log'],
    ['access_log' => "a\0b"],
    ['access_log' => true],
    ['access_log_format' => 'xml'],
    ['access_log_format' => 'JSON'],
    ['access_log_format' => 1],
    ['rate_limit' => -1],
    ['rate_limit' => 0.0001],
    ['rate_limit' => 2e9],
    ['rate_limit' => INF],
    ['rate_limit' => NAN],
    ['rate_limit' => '10'],
    ['rate_limit' => true],
    ['rate_limit_burst' => 0],
    ['rate_limit_burst' => 1000001],
    ['rate_limit_burst' => 1.5],
    ['rate_limit_burst' => '2'],
    ['trusted_proxies' => 'nope'],
    ['trusted_proxies' => '127.0.0.1, bad'],
    ['trusted_proxies' => '10.0.0.0/33'],
    ['trusted_proxies' => '10.0.0.0/x'],
    ['trusted_proxies' => '::1/129'],
    ['trusted_proxies' => ['127.0.0.1']],
    ['error_pages' => '/nonexistent/dir'],
    ['error_pages' => __FILE__],
    ['error_pages' => 1],
] as $opts) {
    try {
        new Via\Server('127.0.0.1', 0, $opts);
        echo "accepted\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', str_replace(__FILE__, 'FILE', $e->getMessage()), "\n";
    }
}

// Checked when the server starts.
$static = "$tmp/via-ops-static-" . getmypid();
@mkdir($static);
touch("$static/health");
$busy = stream_socket_server('tcp://127.0.0.1:0');
foreach ([
    ['health_path' => '/x', 'metrics_path' => '/x'],
    ['metrics_listen' => '127.0.0.1:0', 'health_path' => '/m', 'metrics_path' => '/m'],
    ['metrics_listen' => '127.0.0.1:0', 'metrics_path' => '/health'],
    ['metrics_listen' => stream_socket_get_name($busy, false)],
    ['static_dir' => $static, 'health_path' => '/health'],
    ['access_log' => $tmp],
] as $opts) {
    try {
        $server = new Via\Server('127.0.0.1', 0, $opts + ['log_level' => 'off']);
        $server->onRequest(fn($req, $res) => $res->end())->onStart(fn(Via\Server $s) => $s->stop())->start();
        echo "started\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', preg_replace('/127\.0\.0\.1:\d+/', '127.0.0.1:PORT', $e->getMessage()), "\n";
    }
}
unlink("$static/health");
rmdir($static);
?>
--EXPECT--
ValueError: Via\Server::__construct(): option "health_path": must be a URL path starting with "/" (or "" for off), "health" given
ValueError: Via\Server::__construct(): option "health_path": must be a URL path starting with "/" (or "" for off), "/a?b" given
ValueError: Via\Server::__construct(): option "health_path": must be a URL path starting with "/" (or "" for off), "/a#b" given
ValueError: Via\Server::__construct(): option "health_path": must be a URL path starting with "/" (or "" for off), "/a\b" given
ValueError: Via\Server::__construct(): option "health_path": must be a URL path starting with "/" (or "" for off), "/a/../b" given
ValueError: Via\Server::__construct(): option "health_path": must be a URL path starting with "/" (or "" for off), "/a b" given
ValueError: Via\Server::__construct(): option "health_path": must be a string, int given
ValueError: Via\Server::__construct(): option "health_path" must be an int, float, bool or string, null given
ValueError: Via\Server::__construct(): option "metrics_path": must be a URL path starting with "/" (or "" for off), "metrics" given
ValueError: Via\Server::__construct(): option "metrics_path": must be a URL path starting with "/" (or "" for off), "/m?x=1" given
ValueError: Via\Server::__construct(): option "metrics_path" must be an int, float, bool or string, array given
ValueError: Via\Server::__construct(): option "metrics_listen": must be "host:port" (as "127.0.0.1:9090"), "nope" given
ValueError: Via\Server::__construct(): option "metrics_listen": must be "host:port" (as "127.0.0.1:9090"), ":9090" given
ValueError: Via\Server::__construct(): option "metrics_listen": must be "host:port" (as "127.0.0.1:9090"), "127.0.0.1:" given
ValueError: Via\Server::__construct(): option "metrics_listen": must be "host:port" (as "127.0.0.1:9090"), "127.0.0.1:70000" given
ValueError: Via\Server::__construct(): option "metrics_listen": must be a string, int given
ValueError: Via\Server::__construct(): option "access_log": the directory of "/nonexistent/dir/access.log" does not exist
ValueError: Via\Server::__construct(): option "access_log": must not contain any null bytes
ValueError: Via\Server::__construct(): option "access_log": must be a string, bool given
ValueError: Via\Server::__construct(): option "access_log_format": must be "common", "combined" or "json", "xml" given
ValueError: Via\Server::__construct(): option "access_log_format": must be "common", "combined" or "json", "JSON" given
ValueError: Via\Server::__construct(): option "access_log_format": must be a string, int given
ValueError: Via\Server::__construct(): option "rate_limit": must be 0 (off) or between 0.001 and 1e9, -1 given
ValueError: Via\Server::__construct(): option "rate_limit": must be 0 (off) or between 0.001 and 1e9, 0.0001 given
ValueError: Via\Server::__construct(): option "rate_limit": must be 0 (off) or between 0.001 and 1e9, 2000000000 given
ValueError: Via\Server::__construct(): option "rate_limit": must be 0 (off) or between 0.001 and 1e9, INF given
ValueError: Via\Server::__construct(): option "rate_limit": must be 0 (off) or between 0.001 and 1e9, NAN given
ValueError: Via\Server::__construct(): option "rate_limit": must be requests per second, string given
ValueError: Via\Server::__construct(): option "rate_limit": must be requests per second, bool given
ValueError: Via\Server::__construct(): option "rate_limit_burst": must be between 1 and 1000000, 0 given
ValueError: Via\Server::__construct(): option "rate_limit_burst": must be between 1 and 1000000, 1000001 given
ValueError: Via\Server::__construct(): option "rate_limit_burst": must be an int, float given
ValueError: Via\Server::__construct(): option "rate_limit_burst": must be an int, string given
ValueError: Via\Server::__construct(): option "trusted_proxies": "nope" is not an IP address or network (as 10.0.0.1, 10.0.0.0/8, ::1)
ValueError: Via\Server::__construct(): option "trusted_proxies": "bad" is not an IP address or network (as 10.0.0.1, 10.0.0.0/8, ::1)
ValueError: Via\Server::__construct(): option "trusted_proxies": "10.0.0.0/33": the prefix length must be 0 to 32
ValueError: Via\Server::__construct(): option "trusted_proxies": "10.0.0.0/x": the prefix length must be 0 to 32
ValueError: Via\Server::__construct(): option "trusted_proxies": "::1/129": the prefix length must be 0 to 128
ValueError: Via\Server::__construct(): option "trusted_proxies" must be an int, float, bool or string, array given
ValueError: Via\Server::__construct(): option "error_pages": "/nonexistent/dir" is not a directory
ValueError: Via\Server::__construct(): option "error_pages": "FILE" is not a directory
ValueError: Via\Server::__construct(): option "error_pages": must be a string, int given
Via\Exception: Via\Server::start(): invalid configuration: option "metrics_path": must differ from health_path, both are "/x"
Via\Exception: Via\Server::start(): invalid configuration: option "metrics_path": must differ from health_path, both are "/m"
Via\Exception: Via\Server::start(): invalid configuration: option "metrics_path": must differ from health_path, both are "/health"
Via\Exception: Via\Server::start(): option "metrics_listen": cannot listen on 127.0.0.1:PORT: Address already in use (os error 98)
Via\Exception: Via\Server::start(): invalid configuration: option "health_path": "/health" is also a file of static_dir
Via\Exception: Via\Server::start(): invalid configuration: option "access_log": cannot be opened: Is a directory (os error 21)
