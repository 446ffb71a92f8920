--TEST--
Via\Server::onWorkerStart(), onWorkerStop(): the hook must be callable
--FILE--
<?php
$server = new Via\Server('127.0.0.1', 0);
foreach (['onWorkerStart', 'onWorkerStop'] as $m) {
    try {
        $server->$m('nope');
    } catch (TypeError $e) {
        echo $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
Via\Server::onWorkerStart(): Argument #1 ($hook) must be a valid callback, function "nope" not found or invalid function name
Via\Server::onWorkerStop(): Argument #1 ($hook) must be a valid callback, function "nope" not found or invalid function name
