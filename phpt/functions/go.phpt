--TEST--
Via\go(): runs a callable in a new task with arguments; returns its id
--FILE--
<?php
$id = Via\go(function (int $x): void {
    echo "task ", Via\taskId() > 0 ? 'id' : 'none', " got $x\n";
    Via\sleep(0.01);
    echo "task resumed\n";
}, 42);
var_dump($id > 0);
echo "main continues\n";
Via\run();
Via\go(fn() => print("runs at script end\n"));
echo "end of script\n";
?>
--EXPECT--
bool(true)
main continues
task id got 42
task resumed
end of script
runs at script end
