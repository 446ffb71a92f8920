--TEST--
Via\Broker::isConnected(): memory:// always, workers:// in one process, false once closed
--FILE--
<?php
$m = new Via\Broker('memory://');
$w = new Via\Broker('workers://');
var_dump($m->isConnected(), $w->isConnected());
$m->close();
var_dump($m->isConnected());
?>
--EXPECT--
bool(true)
bool(true)
bool(false)
