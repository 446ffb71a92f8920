<?php

declare(strict_types=1);

namespace Via\Framework\Routing;

/** The routes registered inside one Via::group() call. */
final class RouteGroup
{
    /** @param list<RouteDefinition> $routes */
    public function __construct(private readonly array $routes)
    {
    }

    /** Adds middleware to every route of the group. */
    public function middleware(object ...$middleware): self
    {
        foreach ($this->routes as $route) {
            $route->middleware(...$middleware);
        }
        return $this;
    }

    /** @return list<RouteDefinition> */
    public function routes(): array
    {
        return $this->routes;
    }
}
