--TEST--
Via\Request::input(): a body field, else a query parameter, else the default
--FILE--
<?php
$r = new Via\Request(['method' => 'POST', 'uri' => '/?a=query&b=query',
    'headers' => ['Content-Type' => 'application/x-www-form-urlencoded'], 'body' => 'a=body']);
var_dump($r->input('a'), $r->input('b'), $r->input('c'), $r->input('c', 7));
?>
--EXPECT--
string(4) "body"
string(5) "query"
NULL
int(7)
