<?php

declare(strict_types=1);

namespace Via\Framework\Http;

/**
 * Middleware without PSR-7: look at the request, answer it yourself (and do not call
 * $next), or call `$next($request, $attributes)` to go on; $attributes reach the page's
 * Context::getRequestAttribute().
 */
interface ViaMiddleware
{
    /** @param callable(\Via\Request, array<string, mixed>): void $next */
    public function process(\Via\Request $request, \Via\Response $response, callable $next): void;
}
