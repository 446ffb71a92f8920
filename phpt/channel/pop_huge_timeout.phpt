--TEST--
Via\Channel::pop(): a timeout over 365 days (or INF) means no limit, not a panic
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

$ch = new Via\Channel(1);
show(fn() => $ch->pop(1e300));
Via\run(function () use ($ch): void {
    Via\go(function () use ($ch): void { Via\sleep(0.01); $ch->push('late'); });
    var_dump($ch->pop(1e300));
    Via\go(function () use ($ch): void { Via\sleep(0.01); $ch->push('later'); });
    var_dump($ch->pop(INF));
});
?>
--EXPECT--
Via\Exception: Via\Channel::pop() would wait forever: nothing else can run (start a task with Via\go() or give a timeout)
string(4) "late"
string(5) "later"
