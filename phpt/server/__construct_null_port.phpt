--TEST--
Via\Server::__construct(): null for the int port is deprecated and taken as 0, as for PHP's functions
--EXTENSIONS--
via
--FILE--
<?php
$server = new Via\Server('127.0.0.1', null);
echo get_class($server), "\n";
?>
--EXPECTF--
Deprecated: Via\Server::__construct(): Passing null to parameter #2 ($port) of type int is deprecated in %s on line %d
Via\Server
