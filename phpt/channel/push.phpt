--TEST--
Via\Channel::push(): queues values of any type; a full channel suspends the pusher
--FILE--
<?php
$ch = new Via\Channel(2);
var_dump($ch->push(1), $ch->push(['a' => new stdClass()]), $ch->push('full', 0));
Via\run(function () use ($ch): void {
    Via\go(function () use ($ch): void {
        echo "pusher waits\n";
        var_dump($ch->push('third'));
        echo "pusher resumed\n";
    });
    Via\sleep(0.01);
    echo "popping: ", var_export($ch->pop(), true), "\n";
});
var_dump($ch->length());
?>
--EXPECT--
bool(true)
bool(true)
bool(false)
pusher waits
popping: 1
bool(true)
pusher resumed
int(2)
