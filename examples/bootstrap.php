<?php
/**
 * Loads the framework for the examples: composer's autoloader when php/ was installed with
 * composer, otherwise a PSR-4 autoloader for Via\Framework\ over php/src/. Twig comes from
 * composer or from Debian's php-twig (found by the framework on the include path).
 */
declare(strict_types=1);

(static function (): void {
    $root = dirname(__DIR__) . '/php';
    if (is_file($root . '/vendor/autoload.php')) {
        require_once $root . '/vendor/autoload.php';
        return;
    }
    spl_autoload_register(static function (string $class) use ($root): void {
        $prefix = 'Via\\Framework\\';
        if (!str_starts_with($class, $prefix)) {
            return;
        }
        $file = $root . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    });
})();

if (!extension_loaded('via')) {
    fwrite(STDERR, "the via extension is not loaded: php -d extension=/abs/path/libvia.so examples/app.php\n");
    exit(1);
}
