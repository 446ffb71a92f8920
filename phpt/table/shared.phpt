--TEST--
Via\Table: a forked process writes the same rows (increments from two processes add up)
--EXTENSIONS--
pcntl
--FILE--
<?php
$t = new Via\Table(8, ['n' => Via\Table::INT, 's' => [Via\Table::STRING, 16]]);
$pid = pcntl_fork();
if ($pid === 0) {
    for ($i = 0; $i < 20000; $i++) {
        $t->incr('counter', 'n');
    }
    $t->set('from-child', ['s' => 'hello parent']);
    exit(0);
}
for ($i = 0; $i < 20000; $i++) {
    $t->incr('counter', 'n');
}
pcntl_waitpid($pid, $status);
var_dump($t->get('counter', 'n'), $t->get('from-child', 's'));
?>
--EXPECT--
int(40000)
string(12) "hello parent"
