--TEST--
Via\SSE::send(): data lines, event name, id and retry
--FILE--
<?php
$res = new Via\Response();
$sse = $res->sse();
var_dump($sse->send('hello'));
$sse->send("multi\nline\r\ndata\rend", 'update', '42', 3000);
$sse->send('');
echo $res->getBody();
?>
--EXPECT--
bool(true)
data: hello

event: update
id: 42
retry: 3000
data: multi
data: line
data: data
data: end

data:
