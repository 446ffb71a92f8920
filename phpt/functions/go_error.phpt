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
TypeError: Via\go(): Argument #1 ($callback) must be a valid callback, function "nope_no_function" not found or invalid function name
%sERROR task %d threw RuntimeException: task failed in %s
%A
other task ran
