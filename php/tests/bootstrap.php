<?php

declare(strict_types=1);

// The framework's tests run without `composer install`: src/ and tests/ are autoloaded
// here (PSR-4, as composer.json says), and the optional libraries come from Debian's
// include path (/usr/share/php) when they are installed there.

if (!extension_loaded('via')) {
    fwrite(STDERR, "the via extension is not loaded: php -d extension=/path/to/libvia.so /usr/bin/phpunit -c php/phpunit.xml.dist\n");
    exit(1);
}

spl_autoload_register(static function (string $class): void {
    // Longest prefix first: the tests' namespace is inside the framework's.
    $roots = [
        'Via\\Framework\\Tests\\' => __DIR__ . '/',
        'Via\\Framework\\' => dirname(__DIR__) . '/src/',
    ];
    foreach ($roots as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});

// Debian's php-twig and php-nyholm-psr7 (which brings the PSR-7 and PSR-17 interfaces).
foreach (['Twig/autoload.php', 'Nyholm/Psr7/autoload.php'] as $library) {
    $path = stream_resolve_include_path($library);
    if ($path !== false) {
        require_once $path;
    }
}

// PSR-15 comes from the psr extension (Debian's php8.2-psr) or composer's
// psr/http-server-middleware. Debian's php8.2-psr cannot be installed next to Debian's
// composer (php-symfony-service-contracts breaks php-psr), so without either the two
// PSR-15 interfaces are declared from the standard, and the PSR-15 tests run against
// nyholm's real PSR-7 messages.
if (!interface_exists(\Psr\Http\Server\MiddlewareInterface::class)
    && interface_exists(\Psr\Http\Message\ServerRequestInterface::class)) {
    require __DIR__ . '/Support/psr15.php';
}
