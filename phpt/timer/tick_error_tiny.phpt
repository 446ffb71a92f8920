--TEST--
Via\Timer::tick(): an interval under 1 ms is a ValueError; a 1 ms tick leaves room for the other timers
--EXTENSIONS--
via
--FILE--
<?php
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ": ", $e->getMessage(), "\n";
    }
}

show(fn() => Via\Timer::tick(1e-10, fn() => null));
show(fn() => Via\Timer::tick(0.0009, fn() => null));
Via\Timer::clearAll(); // had one been accepted, it would never let run() return
$ticks = 0;
$id = Via\Timer::tick(0.001, function () use (&$ticks): void { $ticks++; });
Via\Timer::after(0.02, fn() => print("other timer ran\n"));
Via\go(function (): void { Via\sleep(0.01); echo "sleeping task ran\n"; });
Via\Timer::after(0.05, fn() => Via\Timer::clear($id));
Via\run();
echo "run() returned\n";
var_dump($ticks >= 5);
?>
--EXPECT--
ValueError: Via\Timer::tick(): Argument #1 ($seconds) must be between 0.001 and 31536000 seconds, 1e-10 given
ValueError: Via\Timer::tick(): Argument #1 ($seconds) must be between 0.001 and 31536000 seconds, 0.0009 given
sleeping task ran
other timer ran
run() returned
bool(true)
