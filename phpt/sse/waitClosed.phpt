--TEST--
Via\SSE::waitClosed(): false after the timeout, true once closed
--FILE--
<?php
$sse = (new Via\Response())->sse();
Via\run(function () use ($sse): void {
    Via\go(function () use ($sse) { Via\sleep(0.05); $sse->close(); });
    var_dump($sse->waitClosed(0.01));
    var_dump($sse->waitClosed(5.0));
    var_dump($sse->waitClosed());
});
?>
--EXPECT--
bool(false)
bool(true)
bool(true)
