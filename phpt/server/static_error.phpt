--TEST--
Via\Server: static options without a directory, or with bad values
--FILE--
<?php
foreach ([
    ['static_dir' => '/nonexistent/dir'],
    ['static_prefix' => '/x'],
    ['static_dir' => sys_get_temp_dir(), 'static_prefix' => 'nope'],
    ['static_dir' => sys_get_temp_dir(), 'static_prefix' => '/a/../b'],
    ['sse_backpressure' => 'maybe'],
    ['brotli_level' => 12],
] as $opts) {
    try {
        new Via\Server('127.0.0.1', 0, $opts);
        echo "accepted\n";
    } catch (ValueError $e) {
        echo preg_replace('/"\/nonexistent\/dir" cannot be used: .*/', '"/nonexistent/dir" cannot be used: …', $e->getMessage()), "\n";
    }
}
?>
--EXPECT--
Via\Server::__construct(): option "static_dir": "/nonexistent/dir" cannot be used: …
Via\Server::__construct(): option "static_prefix": needs "static_dir" (give static_dir first)
Via\Server::__construct(): option "static_prefix": must be a URL path starting with "/", "nope" given
Via\Server::__construct(): option "static_prefix": must be a URL path starting with "/", "/a/../b" given
Via\Server::__construct(): option "sse_backpressure": must be "wait", "drop" or "close", "maybe" given
Via\Server::__construct(): option "brotli_level": must be between 0 and 11, 12 given
