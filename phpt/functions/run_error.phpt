--TEST--
Via\run(): not inside a task
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

Via\run(function (): void {
    show(fn() => Via\run());
});
show(fn() => Via\run('nope_no_function'));
?>
--EXPECT--
Via\Exception: Via\run(): the loop is already running (called inside a task or a server)
TypeError: Via\run(): Argument #1 ($callback) must be a valid callback, function "nope_no_function" not found or invalid function name
