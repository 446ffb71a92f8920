--TEST--
Via\Channel::pop(): timeout and closed are distinct results; waiting forever is an error
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
var_dump($ch->pop(0.01) === Via\ChannelState::Timeout);
var_dump($ch->pop(0) === Via\ChannelState::Timeout);
show(fn() => $ch->pop());
$ch->push('last');
$ch->close();
var_dump($ch->pop(), $ch->pop() === Via\ChannelState::Closed);
Via\run(function (): void {
    $ch = new Via\Channel(1);
    Via\go(fn() => var_dump($ch->pop() === Via\ChannelState::Closed));
    Via\go(fn() => $ch->close());
});
?>
--EXPECT--
bool(true)
bool(true)
Via\Exception: Via\Channel::pop() would wait forever: nothing else can run (start a task with Via\go() or give a timeout)
string(4) "last"
bool(true)
bool(true)
