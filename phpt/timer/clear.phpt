--TEST--
Via\Timer::clear(): cancels a pending timer; unknown ids return false
--FILE--
<?php
$id = Via\Timer::after(0.01, fn() => print("must not run\n"));
var_dump(Via\Timer::clear($id), Via\Timer::clear($id), Via\Timer::clear(123456), Via\Timer::clear(-1));
Via\run();
echo "done\n";
?>
--EXPECT--
bool(true)
bool(false)
bool(false)
bool(false)
done
