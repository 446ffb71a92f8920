--TEST--
Via\Timer::tick(): repeats until cleared; a slow run is not piled up
--FILE--
<?php
$n = 0;
$id = Via\Timer::tick(0.01, function () use (&$n, &$id): void {
    $n++;
    if ($n === 3) {
        Via\Timer::clear($id);
    }
});
Via\run();
var_dump($n);
$runs = 0;
$slow = Via\Timer::tick(0.005, function () use (&$runs): void {
    $runs++;
    Via\sleep(0.05); // longer than the interval
});
Via\Timer::after(0.06, fn() => Via\Timer::clear($slow));
Via\run();
var_dump($runs <= 2);
?>
--EXPECT--
int(3)
bool(true)
