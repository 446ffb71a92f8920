--TEST--
Via\Server::__construct(): defaults, host, port and options
--FILE--
<?php
$s = new Via\Server();
var_dump($s->host(), $s->port(), $s->isRunning());
$s = new Via\Server('0.0.0.0', 8080, [
    'max_body_size' => 1024, 'header_timeout' => 2.5, 'request_timeout' => 0,
    'h2c' => false, 'log_level' => 'error', 'max_connections' => 5,
]);
var_dump($s->host());
echo "ok\n";
?>
--EXPECT--
string(9) "127.0.0.1"
int(0)
bool(false)
string(7) "0.0.0.0"
ok
