--TEST--
Via\Timer::after(): once, with arguments, in a task
--FILE--
<?php
$id = Via\Timer::after(0.02, function (string $a, int $b): void {
    echo "fired $a $b in task ", var_export(Via\taskId() > 0, true), "\n";
}, 'x', 2);
var_dump(is_int($id) && $id > 0);
Via\Timer::after(0, fn() => print("zero delay\n"));
Via\run();
echo "loop idle\n";
?>
--EXPECT--
bool(true)
zero delay
fired x 2 in task true
loop idle
