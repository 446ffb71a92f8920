--TEST--
Via\go(), Via\Timer::after() and tick(): the arguments after the callback reach it in order; too few is PHP's ArgumentCountError
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

show(fn() => Via\go());
show(fn() => Via\Timer::after(0.01));
show(fn() => Via\Timer::tick(0.01));
show(fn() => Via\Timer::after());

$list = ['a', 'b'];
Via\go(function (...$args) { echo 'none: ', count($args), "\n"; });
Via\go(function (int $a, string $b, array $c, ?object $d) {
    echo "four: $a $b ", implode(',', $c), ' ', var_export($d, true), "\n";
}, 1, 'two', $list, null);
Via\go(function (...$args) { echo 'many: ', count($args), ' ', array_sum($args), "\n"; }, ...range(1, 40));
$list[] = 'c'; // the task got the array as it was
Via\Timer::after(0.001, function ($x, $y) { echo "after: $x $y\n"; }, 'x', 'y');
$id = null;
$id = Via\Timer::tick(0.001, function ($n) use (&$id) { echo "tick: $n\n"; Via\Timer::clear($id); }, 7);
Via\run();
?>
--EXPECT--
ArgumentCountError: Via\go() expects at least 1 argument, 0 given
ArgumentCountError: Via\Timer::after() expects at least 2 arguments, 1 given
ArgumentCountError: Via\Timer::tick() expects at least 2 arguments, 1 given
ArgumentCountError: Via\Timer::after() expects at least 2 arguments, 0 given
none: 0
four: 1 two a,b NULL
many: 40 820
after: x y
tick: 7
