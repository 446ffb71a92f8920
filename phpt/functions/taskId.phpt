--TEST--
Via\taskId(): 0 in the main script, distinct ids in tasks
--FILE--
<?php
var_dump(Via\taskId());
$ids = [];
Via\run(function () use (&$ids): void {
    $ids[] = Via\taskId();
    Via\go(function () use (&$ids) { $ids[] = Via\taskId(); });
});
var_dump(count(array_unique($ids)) === 2 && min($ids) > 0);
?>
--EXPECT--
int(0)
bool(true)
