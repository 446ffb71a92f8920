--TEST--
Via\run(): runs until no task and no timer is left
--FILE--
<?php
Via\run(function (string $who): void {
    Via\go(fn() => print("child of $who\n"));
    Via\Timer::after(0.01, fn() => print("timer\n"));
    echo "main task\n";
}, 'run');
echo "run returned\n";
Via\run();
echo "empty run returns\n";
?>
--EXPECT--
main task
child of run
timer
run returned
empty run returns
