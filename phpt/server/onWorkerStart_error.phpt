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
Invalid value given for argument `hook`.
Invalid value given for argument `hook`.
