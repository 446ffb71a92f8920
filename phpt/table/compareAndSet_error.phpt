--TEST--
Via\Table::compareAndSet(): unknown columns, wrong types, too long strings
--FILE--
<?php
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$t = new Via\Table(2, ['n' => Via\Table::INT, 's' => [Via\Table::STRING, 3]]);
$t->set('k', ['n' => 1, 's' => 'abc']);
show(fn() => $t->compareAndSet('k', 'nope', 1, 2));
show(fn() => $t->compareAndSet('k', 'n', '1', 2));
show(fn() => $t->compareAndSet('k', 'n', 1, [2]));
show(fn() => $t->compareAndSet('k', 's', 'abc', 'abcd'));
show(fn() => $t->compareAndSet('', 'n', 1, 2));
var_dump($t->get('k'));
?>
--EXPECT--
ValueError: Via\Table::compareAndSet(): unknown column "nope"
TypeError: Via\Table::compareAndSet(): column "n" holds int values, string given
TypeError: Via\Table::compareAndSet(): column "n" holds int values, array given
ValueError: Via\Table::compareAndSet(): the value for column "s" is 4 bytes, longer than its 3
ValueError: Via\Table::compareAndSet(): the key must not be empty
array(2) {
  ["n"]=>
  int(1)
  ["s"]=>
  string(3) "abc"
}
