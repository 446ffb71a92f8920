--TEST--
Via\Timer::clearAll(): cancels every user timer, not internal sleeps
--FILE--
<?php
Via\Timer::after(0.01, fn() => print("no\n"));
Via\Timer::tick(0.01, fn() => print("no\n"));
Via\run(function (): void {
    var_dump(Via\Timer::clearAll());
    Via\sleep(0.02);
    echo "sleep still completes\n";
});
?>
--EXPECT--
int(2)
sleep still completes
