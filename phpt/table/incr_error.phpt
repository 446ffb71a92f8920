--TEST--
Via\Table::incr(), decr(): string columns, wrong types of $by, overflow, a full table
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
$t = new Via\Table(1, ['n' => Via\Table::INT, 'f' => Via\Table::FLOAT, 's' => [Via\Table::STRING, 4]]);
show(fn() => $t->incr('k', 's'));
show(fn() => $t->incr('k', 'n', 1.5));
show(fn() => $t->incr('k', 'f', 'x'));
show(fn() => $t->incr('k', 'nope'));
show(fn() => $t->incr('', 'n'));
$t->set('k', ['n' => PHP_INT_MAX]);
show(fn() => $t->incr('k', 'n'));
show(fn() => $t->decr('k', 'n', PHP_INT_MIN));
show(fn() => $t->get('k', 'n') === PHP_INT_MAX);
show(fn() => $t->incr('other', 'n'));
show(fn() => $t->decr('other', 'n'));
show(fn() => $t->decr('k', 's'));
?>
--EXPECT--
TypeError: Via\Table::incr(): column "s" is not numeric
TypeError: Via\Table::incr(): Argument #3 ($by) must be of type int for int column "n", float given
TypeError: Via\Table::incr(): Argument #3 ($by) must be of type int|float, string given
ValueError: Via\Table::incr(): unknown column "nope"
ValueError: Via\Table::incr(): the key must not be empty
ArithmeticError: Via\Table::incr(): the new value of column "n" overflows an int
ArithmeticError: Via\Table::decr(): the new value of column "n" overflows an int
no error: true
Via\CapacityException: Via\Table::incr(): the table is full (1 rows)
Via\CapacityException: Via\Table::decr(): the table is full (1 rows)
TypeError: Via\Table::decr(): column "s" is not numeric
