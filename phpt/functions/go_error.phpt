--TEST--
Via\go(): a non-callable is a TypeError; an exception in a task is logged, others go on
--FILE--
<?php
try {
    Via\go('nope_no_function');
} catch (TypeError $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
Via\go(fn() => throw new RuntimeException('task failed'));
Via\go(fn() => print("other task ran\n"));
Via\run();
?>
--EXPECTF--
TypeError: Invalid value given for argument `callback`.
%sERROR task %d threw RuntimeException: task failed in %s
%A
other task ran
