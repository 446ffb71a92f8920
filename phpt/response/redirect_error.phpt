--TEST--
Via\Response::redirect(): non-3xx status, header injection, after headers were sent
--FILE--
<?php
function show(callable $f): void {
    try {
        $f();
        echo "no error\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

$r = new Via\Response();
show(fn() => $r->redirect('/x', 200));
show(fn() => $r->redirect("/x\r\nSet-Cookie: evil=1"));
$r->write('');
show(fn() => $r->redirect('/x'));
?>
--EXPECT--
ValueError: Via\Response::redirect(): Argument #2 ($status) must be a 3xx code, 200 given
ValueError: Via\Response::redirect(): Argument #1 ($url) must not contain CR, LF or NUL
Via\Exception: Via\Response::redirect(): headers were already sent; set status, headers and cookies before the first write()
