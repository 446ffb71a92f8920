--TEST--
Via\Server::__construct(): outside strict_types a numeric string, an integral float or a bool is an int port, as for PHP's functions
--EXTENSIONS--
via
--FILE--
<?php
foreach (['8080', 8080.0, ' 8080', true] as $port) {
    $server = new Via\Server('127.0.0.1', $port);
    echo get_debug_type($port), ": ok\n";
}
$server = new Via\Server(127001, 0);
var_dump($server->host());
?>
--EXPECT--
string: ok
float: ok
string: ok
bool: ok
string(6) "127001"
