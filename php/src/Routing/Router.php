<?php

declare(strict_types=1);

namespace Via\Framework\Routing;

use Via\Framework\Context;

/**
 * Page routes in registration order (the first match wins), and the call of a page
 * handler with its parameters injected: a `Context` parameter gets the context, a
 * parameter named like a path parameter gets its value cast to the declared scalar type,
 * any other its default, null, or ''.
 */
final class Router
{
    /** @var list<RouteDefinition> */
    private array $routes = [];
    /** @var list<string> */
    private array $prefixes = [];
    /** @var list<list<RouteDefinition>> routes registered inside each open group */
    private array $collecting = [];

    public function add(string $pattern, callable $handler): RouteDefinition
    {
        $prefix = implode('', $this->prefixes);
        if ($prefix !== '') {
            $pattern = ($pattern === '' || $pattern === '/') ? $prefix : $prefix . '/' . ltrim($pattern, '/');
        }
        if ($pattern === '' || $pattern[0] !== '/') {
            throw new \InvalidArgumentException("a route starts with /: \"$pattern\"");
        }
        $route = new RouteDefinition($pattern, $handler);
        $this->routes[] = $route;
        foreach (array_keys($this->collecting) as $i) {
            $this->collecting[$i][] = $route;
        }
        return $route;
    }

    /** Runs $fn with $prefix applied to the routes it registers. */
    public function group(string $prefix, callable $fn): RouteGroup
    {
        $prefix = trim($prefix, '/') === '' ? '' : '/' . trim($prefix, '/');
        $this->prefixes[] = $prefix;
        $this->collecting[] = [];
        try {
            $fn();
        } finally {
            array_pop($this->prefixes);
            $routes = array_pop($this->collecting);
        }
        return new RouteGroup($routes);
    }

    /** @return array{0: RouteDefinition, 1: array<string, string>}|null */
    public function match(string $path): ?array
    {
        foreach ($this->routes as $route) {
            $params = $route->match($path);
            if ($params !== null) {
                return [$route, $params];
            }
        }
        return null;
    }

    public function find(string $pattern): ?RouteDefinition
    {
        foreach ($this->routes as $route) {
            if ($route->pattern === $pattern) {
                return $route;
            }
        }
        return null;
    }

    /** @return list<RouteDefinition> */
    public function routes(): array
    {
        return $this->routes;
    }

    /**
     * Calls a page handler with injected arguments.
     *
     * @param array<string, string> $params
     */
    public static function invoke(callable $handler, Context $ctx, array $params): mixed
    {
        $fn = new \ReflectionFunction(\Closure::fromCallable($handler));
        $args = [];
        foreach ($fn->getParameters() as $p) {
            $type = $p->getType();
            $typeName = $type instanceof \ReflectionNamedType ? $type->getName() : null;
            if ($typeName !== null && is_a($typeName, Context::class, true)) {
                $args[] = $ctx;
            } elseif (array_key_exists($p->getName(), $params)) {
                $args[] = self::cast($params[$p->getName()], $typeName);
            } elseif ($p->isDefaultValueAvailable()) {
                $args[] = $p->getDefaultValue();
            } elseif ($p->allowsNull()) {
                $args[] = null;
            } else {
                $args[] = '';
            }
        }
        return $handler(...$args);
    }

    /** A path parameter as the declared builtin type (int, float, bool), else the string. */
    public static function cast(string $value, ?string $type): mixed
    {
        return match ($type) {
            'int' => (int) $value,
            'float' => (float) $value,
            'bool' => in_array(strtolower($value), ['1', 'true', 'yes', 'on'], true),
            default => $value,
        };
    }
}
