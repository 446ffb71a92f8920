--TEST--
Via\Table::__construct(): bad row counts, key lengths and column declarations
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
show(fn() => new Via\Table(0, ['a' => Via\Table::INT]));
show(fn() => new Via\Table(1, ['a' => Via\Table::INT], 0));
show(fn() => new Via\Table(1, ['a' => Via\Table::INT], 70000));
show(fn() => new Via\Table(1, []));
show(fn() => new Via\Table(1, ['a' => 99]));
show(fn() => new Via\Table(1, ['a' => Via\Table::STRING]));
show(fn() => new Via\Table(1, ['a' => [Via\Table::STRING, 0]]));
show(fn() => new Via\Table(1, ['a' => [Via\Table::STRING, 8, 9]]));
show(fn() => new Via\Table(1, ['a' => 'int']));
show(fn() => new Via\Table(1, [0 => Via\Table::INT, '' => Via\Table::INT]));
show(fn() => new Via\Table(1 << 40, ['a' => Via\Table::INT]));
?>
--EXPECT--
ValueError: Via\Table::__construct(): Argument #1 ($rows) must be at least 1, 0 given
ValueError: Via\Table::__construct(): Argument #3 ($keyMaxLength) must be between 1 and 65535, 0 given
ValueError: Via\Table::__construct(): Argument #3 ($keyMaxLength) must be between 1 and 65535, 70000 given
ValueError: Via\Table::__construct(): a table needs at least one column
ValueError: Via\Table::__construct(): column "a" must be Table::INT, Table::FLOAT or [Table::STRING, size]
ValueError: Via\Table::__construct(): string column "a" needs a size: [Table::STRING, size]
ValueError: Via\Table::__construct(): string column "a" must hold at least 1 byte, 0 given
ValueError: Via\Table::__construct(): column "a" must be Table::INT, Table::FLOAT or [Table::STRING, size]
ValueError: Via\Table::__construct(): column "a" must be Table::INT, Table::FLOAT or [Table::STRING, size]
ValueError: Via\Table::__construct(): a column name must not be empty
ValueError: Via\Table::__construct(): the row count must be between 1 and 1073741824, 1099511627776 given
