--TEST--
Via\Request::query(), post(), cookie(), input(): a key that is not a string or int is a TypeError
--FILE--
<?php
$r = new Via\Request(['uri' => '/?a=1']);
foreach (['query', 'post', 'cookie', 'input'] as $m) {
    try {
        $r->$m([]);
    } catch (TypeError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
TypeError: Via\Request::query(): Argument #1 ($key) must be of type string|int|null, array given
TypeError: Via\Request::post(): Argument #1 ($key) must be of type string|int|null, array given
TypeError: Via\Request::cookie(): Argument #1 ($key) must be of type string|int|null, array given
TypeError: Via\Request::input(): Argument #1 ($key) must be of type string|int|null, array given
