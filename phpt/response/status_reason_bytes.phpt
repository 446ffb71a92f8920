--TEST--
Via\Response::status(): the reason phrase is bytes, written as given on HTTP/1.1; control characters are a ValueError
--EXTENSIONS--
via
--FILE--
<?php
require __DIR__ . '/../serve.inc';
function show(callable $f): void {
    try {
        $r = $f();
        echo "no error: ", var_export($r, true), "\n";
    } catch (Throwable $e) {
        echo get_class($e), ": ", $e->getMessage(), "\n";
    }
}

show(fn() => (new Via\Response())->status(200, "Ok \xff")->getStatus());
show(fn() => (new Via\Response())->status(200, "Ok\r\nX-Injected: 1"));
show(fn() => (new Via\Response())->status(200, "Ok\0"));
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
via_serve($server, function (Via\Request $req, Via\Response $res): void {
    $res->status(200, "Tr\xe8s bien\tOK");
    $res->end();
}, function (int $port): void {
    echo bin2hex(via_get($port, '/')[0]), "\n";
});
?>
--EXPECT--
no error: 200
ValueError: Via\Response::status(): Argument #2 ($reason) must not contain control characters
ValueError: Via\Response::status(): Argument #2 ($reason) must not contain control characters
485454502f312e3120323030205472e873206269656e094f4b
