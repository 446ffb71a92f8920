--TEST--
Via\SSE::waitClosed(): a timeout over 365 days (or INF) means no limit, not a panic
--EXTENSIONS--
via
--FILE--
<?php
$sse = (new Via\Response())->sse();
Via\run(function () use ($sse): void {
    Via\go(function () use ($sse) { Via\sleep(0.02); $sse->close(); });
    var_dump($sse->waitClosed(1e300));
    var_dump($sse->waitClosed(INF));
});
?>
--EXPECT--
bool(true)
bool(true)
