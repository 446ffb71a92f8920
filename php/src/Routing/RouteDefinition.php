<?php

declare(strict_types=1);

namespace Via\Framework\Routing;

use Via\Framework\Http\Middleware;

/** A registered page: its pattern, handler and route middleware. */
final class RouteDefinition
{
    /** @var list<object> */
    private array $middleware = [];
    private string $regex;
    /** @var list<string> */
    private array $params = [];

    /** @param callable $handler */
    public function __construct(public readonly string $pattern, private $handler)
    {
        $this->params = preg_match_all('/\{([A-Za-z_][A-Za-z0-9_]*)\}/', $pattern, $m) ? $m[1] : [];
        $quoted = preg_quote($pattern, '#');
        $this->regex = '#^' . preg_replace('/\\\\\{([A-Za-z_][A-Za-z0-9_]*)\\\\\}/', '(?P<$1>[^/]+)', $quoted) . '$#D';
    }

    /**
     * Adds middleware to this route only: PSR-15, or Http\ViaMiddleware. Anything else is
     * refused here, as Via::middleware() does: the onion would otherwise skip it silently.
     *
     * @throws \InvalidArgumentException for an object that is not middleware
     */
    public function middleware(object ...$middleware): self
    {
        foreach ($middleware as $m) {
            Middleware::check($m);
        }
        array_push($this->middleware, ...$middleware);
        return $this;
    }

    /** @return list<object> */
    public function getMiddleware(): array
    {
        return $this->middleware;
    }

    public function handler(): callable
    {
        return $this->handler;
    }

    /** @return list<string> */
    public function paramNames(): array
    {
        return $this->params;
    }

    /** @return array<string, string>|null the path parameters, or null when it does not match */
    public function match(string $path): ?array
    {
        if ($this->params === []) {
            return $path === $this->pattern ? [] : null;
        }
        if (preg_match($this->regex, $path, $m) !== 1) {
            return null;
        }
        $out = [];
        foreach ($this->params as $name) {
            $out[$name] = rawurldecode($m[$name]);
        }
        return $out;
    }
}
