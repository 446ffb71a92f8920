--TEST--
Via\Table::get(), exists(), del(): bad keys and unknown columns
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
$t = new Via\Table(4, ['n' => Via\Table::INT], 3);
show(fn() => $t->get(''));
show(fn() => $t->get('long'));
show(fn() => $t->get('k', 'nope'));
show(fn() => $t->exists(''));
show(fn() => $t->exists('long'));
show(fn() => $t->del(''));
show(fn() => $t->del('long'));
?>
--EXPECT--
ValueError: Via\Table::get(): the key must not be empty
ValueError: Via\Table::get(): the key is 4 bytes, longer than the table's 3
ValueError: Via\Table::get(): unknown column "nope"
ValueError: Via\Table::exists(): the key must not be empty
ValueError: Via\Table::exists(): the key is 4 bytes, longer than the table's 3
ValueError: Via\Table::del(): the key must not be empty
ValueError: Via\Table::del(): the key is 4 bytes, longer than the table's 3
