--TEST--
Via\Server::__construct(): invalid port, host and options
--FILE--
<?php
$cases = [
    fn() => new Via\Server('127.0.0.1', -1),
    fn() => new Via\Server('127.0.0.1', 70000),
    fn() => new Via\Server('', 80),
    fn() => new Via\Server('127.0.0.1', 0, ['max_body' => 1]),
    fn() => new Via\Server('127.0.0.1', 0, ['max_body_size' => '1M']),
    fn() => new Via\Server('127.0.0.1', 0, ['max_header_size' => 100]),
    fn() => new Via\Server('127.0.0.1', 0, ['header_timeout' => -1]),
    fn() => new Via\Server('127.0.0.1', 0, ['log_level' => 'loud']),
    fn() => new Via\Server('127.0.0.1', 0, ['h2c' => []]),
    fn() => new Via\Server('127.0.0.1', 0, ['upload_dir' => '/nonexistent/dir']),
    fn() => new Via\Server('127.0.0.1', 0, ['broker_backlog' => 1024]),
    fn() => new Via\Server('127.0.0.1', 0, ['worker_sched_batch' => 'yes']),
];
foreach ($cases as $case) {
    try {
        $case();
        echo "no error\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECTF--
ValueError: Via\Server::__construct(): Argument #2 ($port) must be between 0 and 65535, -1 given
ValueError: Via\Server::__construct(): Argument #2 ($port) must be between 0 and 65535, 70000 given
ValueError: Via\Server::__construct(): Argument #1 ($host) must not be empty
ValueError: Via\Server::__construct(): option "max_body": unknown option; known options are: %s
ValueError: Via\Server::__construct(): option "max_body_size": must be an int, string given
ValueError: Via\Server::__construct(): option "max_header_size": must be between 8192 and 16777216, 100 given
ValueError: Via\Server::__construct(): option "header_timeout": must be between 0.1 and 31536000 seconds, -1 given
ValueError: Via\Server::__construct(): option "log_level": must be one of off, error, warn, info, debug, "loud" given
ValueError: Via\Server::__construct(): option "h2c" must be an int, float, bool or string, array given
ValueError: Via\Server::__construct(): option "upload_dir": "/nonexistent/dir" is not a directory
ValueError: Via\Server::__construct(): option "broker_backlog": must be between 65536 and 1073741824, 1024 given
ValueError: Via\Server::__construct(): option "worker_sched_batch": must be a bool, string given
