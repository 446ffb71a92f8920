--TEST--
Via\Response::cookie(): every attribute, Partitioned and Max-Age included
--FILE--
<?php
$r = new Via\Response();
$r->cookie('plain', 'a b;c');
$r->cookie('raw', 'a+b', ['raw' => true]);
$r->cookie('all', 'v', ['expires' => 2000000000, 'path' => '/', 'domain' => 'example.com', 'secure' => true,
    'httponly' => true, 'samesite' => 'none', 'partitioned' => true]);
$r->cookie('age', 'v', ['max_age' => 60, 'samesite' => 'Lax']);
$r->cookie('gone');
foreach ($r->getHeaders()['set-cookie'] as $line) {
    echo preg_replace('/Max-Age=\d+; Path/', 'Max-Age=N; Path', $line), "\n";
}
?>
--EXPECT--
plain=a%20b%3Bc
raw=a+b
all=v; Expires=Wed, 18 May 2033 03:33:20 GMT; Max-Age=N; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=None; Partitioned
age=v; Max-Age=60; SameSite=Lax
gone=deleted; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0
