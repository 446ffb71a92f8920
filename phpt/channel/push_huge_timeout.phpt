--TEST--
Via\Channel::push(): a timeout over 365 days means no limit, not a panic
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
$ch->push('first');
show(fn() => $ch->push('second', 1e300));
Via\run(function () use ($ch): void {
    Via\go(function () use ($ch): void { Via\sleep(0.01); var_dump($ch->pop()); });
    var_dump($ch->push('second', 1e300));
    var_dump($ch->pop());
});
?>
--EXPECT--
Via\Exception: Via\Channel::push() would wait forever: nothing else can run (start a task with Via\go() or give a timeout)
string(5) "first"
bool(true)
string(6) "second"
