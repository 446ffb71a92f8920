<?php

declare(strict_types=1);

namespace Via\Framework\Http;

/**
 * Runs a middleware onion (the first registered is outermost) around the framework's own
 * handling. Two kinds: ViaMiddleware (no PSR-7 needed), and PSR-15 middleware when the
 * interfaces and a PSR-17 factory (nyholm/psr7) are installed. With no middleware the
 * request never becomes a PSR-7 object.
 */
final class Middleware
{
    public static function check(object $m): void
    {
        if ($m instanceof ViaMiddleware) {
            return;
        }
        if (interface_exists(\Psr\Http\Server\MiddlewareInterface::class) && $m instanceof \Psr\Http\Server\MiddlewareInterface) {
            if (!class_exists(\Nyholm\Psr7\Factory\Psr17Factory::class)) {
                throw new \RuntimeException('PSR-15 middleware needs a PSR-7 implementation: composer require nyholm/psr7 (Debian: php-nyholm-psr7)');
            }
            return;
        }
        throw new \InvalidArgumentException(get_class($m) . ' is neither a PSR-15 MiddlewareInterface nor a Via\Framework\Http\ViaMiddleware');
    }

    public static function isSseAware(object $m): bool
    {
        return $m instanceof SseAwareMiddleware;
    }

    /**
     * @param list<object> $stack
     * @param callable(\Via\Request, array<string, mixed>): void $final
     */
    public static function run(array $stack, \Via\Request $req, \Via\Response $res, string $type, callable $final): void
    {
        if ($stack === []) {
            $final($req, []);
            return;
        }
        self::step($stack, 0, $req, $res, $type, $final, []);
    }

    /**
     * @param list<object> $stack
     * @param array<string, mixed> $attributes
     */
    private static function step(array $stack, int $i, \Via\Request $req, \Via\Response $res, string $type, callable $final, array $attributes): void
    {
        if ($i >= count($stack)) {
            $final($req, $attributes);
            return;
        }
        $m = $stack[$i];
        if ($m instanceof ViaMiddleware) {
            $m->process($req, $res, function (\Via\Request $next, array $more = []) use ($stack, $i, $res, $type, $final, $attributes): void {
                self::step($stack, $i + 1, $next, $res, $type, $final, array_merge($attributes, $more));
            });
            return;
        }
        // The PSR-15 rest of the stack from here: one handler object for the whole tail.
        $handler = new PsrHandler(function (array $psrAttributes, int $consumed) use ($stack, $i, $req, $res, $type, $final, $attributes): void {
            unset($psrAttributes['via.request'], $psrAttributes['via.request_type']);
            self::step($stack, $i + $consumed, $req, $res, $type, $final, array_merge($attributes, $psrAttributes));
        }, array_slice($stack, $i));
        $response = $handler->handle(PsrHandler::request($req, $type, $attributes));
        if (!$handler->reachedInner() && !$res->headersSent()) {
            PsrHandler::emit($response, $res);
        }
    }
}
