--TEST--
Via\Table::__construct(): columns of each type, the key length, the schema as declared
--FILE--
<?php
$t = new Via\Table(10, ['hits' => Via\Table::INT, 'score' => [Via\Table::FLOAT], 'name' => [Via\Table::STRING, 16]], 8);
var_dump($t->capacity(), count($t));
foreach ($t->columns() as $name => $spec) {
    echo "$name: {$spec['type']} {$spec['size']}\n";
}
$t->set('12345678', ['hits' => 1]);
echo "8-byte key ok\n";
$d = new Via\Table(1, ['v' => [Via\Table::STRING, 1]]);
$d->set(str_repeat('k', 64), ['v' => 'x']);
echo "64-byte key by default\n";
?>
--EXPECT--
int(10)
int(0)
hits: int 8
score: float 8
name: string 16
8-byte key ok
64-byte key by default
