--TEST--
Via\Table::set(): bad keys, unknown columns, wrong types, too long strings, a full table — nothing changes
--FILE--
<?php
function show(callable $f): void {
    try {
        $f();
        echo "no error\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$t = new Via\Table(2, ['n' => Via\Table::INT, 's' => [Via\Table::STRING, 4]], 4);
$t->set('a', ['n' => 1, 's' => 'keep']);
show(fn() => $t->set('', ['n' => 1]));
show(fn() => $t->set('toolong', ['n' => 1]));
show(fn() => $t->set('a', ['n' => 2, 'nope' => 1]));
show(fn() => $t->set('a', ['n' => 2, 's' => 'five!']));
show(fn() => $t->set('a', ['n' => 2.5]));
show(fn() => $t->set('a', ['n' => '2']));
show(fn() => $t->set('a', ['s' => 5]));
show(fn() => $t->set('a', ['n' => null]));
show(fn() => $t->set('a', [0 => 1]));
var_dump($t->get('a'));
$t->set('b', []);
show(fn() => $t->set('c', ['n' => 1]));
show(fn() => $t->set('b', ['n' => 3])); // an existing row still takes writes
var_dump(count($t), $t->exists('c'));
?>
--EXPECT--
ValueError: Via\Table::set(): the key must not be empty
ValueError: Via\Table::set(): the key is 7 bytes, longer than the table's 4
ValueError: Via\Table::set(): unknown column "nope"
ValueError: Via\Table::set(): the value for column "s" is 5 bytes, longer than its 4
TypeError: Via\Table::set(): column "n" holds int values, float given
TypeError: Via\Table::set(): column "n" holds int values, string given
TypeError: Via\Table::set(): column "s" holds string values, int given
TypeError: Via\Table::set(): column "n" holds int values, null given
ValueError: Via\Table::set(): unknown column "0"
array(2) {
  ["n"]=>
  int(1)
  ["s"]=>
  string(4) "keep"
}
Via\CapacityException: Via\Table::set(): the table is full (2 rows)
no error
int(2)
bool(false)
