--TEST--
Via\Response::__construct(): a detached response for tests
--FILE--
<?php
$r = new Via\Response();
var_dump($r->getStatus(), $r->getHeaders(), $r->isWritable(), $r->headersSent(), $r->isEnded(), $r->getBody());
?>
--EXPECT--
int(200)
array(0) {
}
bool(true)
bool(false)
bool(false)
string(0) ""
