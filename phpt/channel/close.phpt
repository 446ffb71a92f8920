--TEST--
Via\Channel::close(): wakes waiters, idempotent
--FILE--
<?php
Via\run(function (): void {
    $ch = new Via\Channel(1);
    $ch->push('x');
    Via\go(function () use ($ch) { var_dump($ch->push('blocked')); });
    Via\go(function () use ($ch) { Via\sleep(0.01); $ch->close(); $ch->close(); echo "closed\n"; });
});
?>
--EXPECT--
closed
bool(false)
