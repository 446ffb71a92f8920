--TEST--
Via\Broker::dsn(): the DSN as given
--FILE--
<?php
var_dump((new Via\Broker('memory://room?max_payload=64'))->dsn());
?>
--EXPECT--
string(28) "memory://room?max_payload=64"
