--TEST--
Via\Server::host(): the configured host
--FILE--
<?php
var_dump((new Via\Server('::1', 0))->host());
var_dump((new Via\Server())->host());
?>
--EXPECT--
string(3) "::1"
string(9) "127.0.0.1"
