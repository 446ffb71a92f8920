--TEST--
Via\sleep(): suspends the task while others run; in the main script it runs the loop
--FILE--
<?php
Via\go(function (): void { Via\sleep(0.03); echo "slow\n"; });
Via\go(function (): void { Via\sleep(0.01); echo "fast\n"; });
$t = hrtime(true);
Via\sleep(0.05);
echo "main after ", (hrtime(true) - $t) >= 50e6 ? ">= 50ms" : "too early", "\n";
Via\go(function (): void { echo "a\n"; Via\sleep(0); echo "c\n"; });
Via\go(function (): void { echo "b\n"; });
Via\run();
?>
--EXPECT--
fast
slow
main after >= 50ms
a
b
c
