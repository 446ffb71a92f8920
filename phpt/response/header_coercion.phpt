--TEST--
Via\Response::header(): outside strict_types ints, floats and Stringable objects are strings and scalars are bools, as for PHP's functions
--EXTENSIONS--
via
--FILE--
<?php
class Token { public function __toString(): string { return 'abc'; } }
$res = new Via\Response();
$res->header('X-Int', 5)->header('X-Float', 1.5)->header('X-Object', new Token());
$res->header('X-Int', 6, 0);
var_dump($res->getHeader('x-int'), $res->getHeader('x-float'), $res->getHeader('x-object'));
?>
--EXPECT--
string(4) "5, 6"
string(3) "1.5"
string(3) "abc"
