--TEST--
Via\SSE::topics() (with join(), leave())
--FILE--
<?php
$sse = (new Via\Response())->sse();
$sse->join('a')->join('b');
var_dump($sse->topics());
$sse->leave('a')->leave('missing');
var_dump($sse->topics());
?>
--EXPECT--
array(2) {
  [0]=>
  string(1) "a"
  [1]=>
  string(1) "b"
}
array(1) {
  [0]=>
  string(1) "b"
}
