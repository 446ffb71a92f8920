--TEST--
Via\Internal\endTask(): only the runtime's fiber body may call it, not the main script nor a task
--FILE--
<?php
// Only the runtime's fiber body may call it.
foreach ([fn() => Via\Internal\endTask(true), fn() => Via\Internal\endTask(null)] as $call) {
    try {
        $call();
    } catch (Via\Exception $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
Via\go(function (): void {
    try {
        Via\Internal\endTask(true);
    } catch (Via\Exception $e) {
        echo 'in a task: ', $e->getMessage(), "\n";
    }
});
Via\run();
?>
--EXPECT--
Via\Exception: Via\Internal\endTask(): only the runtime's fiber body may call it
Via\Exception: Via\Internal\endTask(): only the runtime's fiber body may call it
in a task: Via\Internal\endTask(): only the runtime's fiber body may call it
