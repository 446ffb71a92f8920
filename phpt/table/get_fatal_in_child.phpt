--TEST--
Via\Table::get(): a fatal error (memory limit) inside get() in one process leaves the table whole and usable for the others
--EXTENSIONS--
pcntl
--FILE--
<?php
// get() runs without ext-php-rs's bailout guard (decision 0015): it copies the row out and
// releases the table's lock before it makes PHP values, so a fatal error while it makes
// them skips no lock. The child dies in get(); the parent goes on with the same table.
$t = new Via\Table(4, ['big' => [Via\Table::STRING, 1 << 20], 'n' => Via\Table::INT]);
$t->set('row', ['big' => str_repeat('x', 1 << 20), 'n' => 7]);
$pid = pcntl_fork();
if ($pid === 0) {
    ini_set('memory_limit', (string) (memory_get_usage() + (4 << 20)));
    $keep = [];
    while (true) {
        $keep[] = $t->get('row', 'big');
    }
}
pcntl_waitpid($pid, $status);
var_dump(pcntl_wifexited($status), pcntl_wexitstatus($status));
$row = $t->get('row');
var_dump(strlen($row['big']), $row['n'], $t->incr('row', 'n'), count($t));
?>
--EXPECTF--
%AFatal error: Allowed memory size of %d bytes exhausted%s
bool(true)
int(255)
int(1048576)
int(7)
int(8)
int(1)
