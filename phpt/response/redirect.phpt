--TEST--
Via\Response::redirect(): Location and a 3xx status
--FILE--
<?php
$r = new Via\Response();
var_dump($r->redirect('/login'), $r->getStatus(), $r->getHeader('location'), $r->isEnded());
$r = new Via\Response();
$r->redirect('https://example.com/', 301);
var_dump($r->getStatus());
?>
--EXPECT--
bool(true)
int(302)
string(6) "/login"
bool(true)
int(301)
