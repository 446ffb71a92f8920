--TEST--
Via\Channel::pop(): wakes at once on push, not at the next poll
--FILE--
<?php
$ch = new Via\Channel(1);
Via\run(function () use ($ch): void {
    Via\go(function () use ($ch): void {
        $t = hrtime(true);
        $v = $ch->pop(5.0);
        printf("got %s after < 50 ms: %s\n", $v, var_export((hrtime(true) - $t) < 50e6, true));
    });
    Via\go(function () use ($ch): void {
        Via\sleep(0.01);
        $ch->push('ping');
    });
});
$ch->push(null);
var_dump($ch->pop(0));
?>
--EXPECT--
got ping after < 50 ms: true
NULL
