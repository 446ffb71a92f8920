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
TypeError: Via\Server::onRequest(): Argument #1 ($handler) must be a valid callback, function "no_such_function" not found or invalid function name
TypeError: Via\Server::onStart(): Argument #1 ($hook) must be a valid callback, function "no_such_function" not found or invalid function name
TypeError: Via\Server::onShutdown(): Argument #1 ($hook) must be a valid callback, function "no_such_function" not found or invalid function name
