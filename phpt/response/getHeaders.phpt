--TEST--
Via\Response::getHeaders(): name => list of values
--FILE--
<?php
$r = new Via\Response();
$r->header('Content-Type', 'text/plain')->cookie('a', '1')->cookie('b', '2');
echo json_encode($r->getHeaders()), "\n";
?>
--EXPECT--
{"content-type":["text\/plain"],"set-cookie":["a=1","b=2"]}
