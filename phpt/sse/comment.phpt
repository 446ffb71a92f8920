--TEST--
Via\SSE::comment(): comment lines
--FILE--
<?php
$res = new Via\Response();
$sse = $res->sse();
var_dump($sse->comment("keep\nalive"));
echo $res->getBody();
?>
--EXPECT--
bool(true)
: keep
: alive
