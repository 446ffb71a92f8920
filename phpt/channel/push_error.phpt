--TEST--
Via\Channel::push(): timeout, closed channel, waiting forever in the main script
--FILE--
<?php
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

$ch = new Via\Channel(1);
$ch->push(1);
show(fn() => $ch->push(2, 0.01));
show(fn() => $ch->push(2));
$ch->close();
show(fn() => $ch->push(3));
?>
--EXPECT--
no error: false
Via\Exception: Via\Channel::push() would wait forever: nothing else can run (start a task with Via\go() or give a timeout)
no error: false
