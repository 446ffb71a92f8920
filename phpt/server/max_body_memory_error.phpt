--TEST--
Via\Server: max_body_memory must be a positive int that holds at least one body of max_body_size
--FILE--
<?php
foreach ([0, -1, '1G'] as $bad) {
    try {
        new Via\Server('127.0.0.1', 0, ['max_body_memory' => $bad]);
        echo "no error\n";
    } catch (ValueError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$cases = [
    ['max_body_memory' => 1048576],
    ['max_body_memory' => 1000, 'max_body_size' => 1001],
];
foreach ($cases as $opts) {
    try {
        (new Via\Server('127.0.0.1', 0, $opts + ['log_level' => 'off']))->onRequest(fn() => null)->start();
        echo "started?\n";
    } catch (Via\Exception $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$s = new Via\Server('127.0.0.1', 0, ['max_body_memory' => 1000, 'max_body_size' => 1000, 'log_level' => 'off']);
$s->onStart(function () use ($s) {
    $stats = $s->stats();
    echo "body_memory ", $stats['body_memory'], ", refusals ", $stats['body_memory_refusals'], "\n";
    $s->stop();
});
$s->onRequest(fn() => null)->start();
?>
--EXPECT--
ValueError: Via\Server::__construct(): option "max_body_memory": must be between 1 and 9223372036854775807, 0 given
ValueError: Via\Server::__construct(): option "max_body_memory": must be between 1 and 9223372036854775807, -1 given
ValueError: Via\Server::__construct(): option "max_body_memory": must be an int, string given
Via\Exception: Via\Server::start(): invalid configuration: option "max_body_memory": must be at least max_body_size (8388608) or no body that large could be read, 1048576 given
Via\Exception: Via\Server::start(): invalid configuration: option "max_body_memory": must be at least max_body_size (1001) or no body that large could be read, 1000 given
body_memory 0, refusals 0
