--TEST--
Via\Request::hasHeader(): case-insensitive presence
--FILE--
<?php
$r = new Via\Request(['headers' => ['X-Present' => '']]);
var_dump($r->hasHeader('x-present'), $r->hasHeader('X-PRESENT'), $r->hasHeader('x-absent'), $r->hasHeader('not a name'));
?>
--EXPECT--
bool(true)
bool(true)
bool(false)
bool(false)
