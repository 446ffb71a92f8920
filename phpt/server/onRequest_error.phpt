--TEST--
Via\Server::onRequest(), onStart(), onShutdown(): a non-callable is a TypeError
--FILE--
<?php
$server = new Via\Server();
foreach (['onRequest', 'onStart', 'onShutdown'] as $m) {
    try {
        $server->$m('no_such_function');
    } catch (TypeError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECTF--
TypeError: Invalid value given for argument `handler`.
TypeError: Invalid value given for argument `hook`.
TypeError: Invalid value given for argument `hook`.
