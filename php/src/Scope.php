<?php

declare(strict_types=1);

namespace Via\Framework;

/**
 * Scope names and helpers. A scope is who shares state and receives a broadcast:
 * one tab, every tab on a route, every tab of a browser session, every tab, or a name
 * of the application's own ("room:42").
 */
final class Scope
{
    public const TAB = 'tab';
    public const ROUTE = 'route';
    public const SESSION = 'session';
    public const GLOBAL = 'global';

    /** Longest scope accepted from a broker or a client. */
    public const MAX_WIRE_LENGTH = 256;

    /** @return list<string> */
    public static function parse(string $scope): array
    {
        return explode(':', $scope);
    }

    public static function build(string ...$parts): string
    {
        return implode(':', $parts);
    }

    public static function isBuiltIn(string $scope): bool
    {
        return in_array($scope, [self::TAB, self::ROUTE, self::SESSION, self::GLOBAL], true);
    }

    public static function isRouteBased(string $scope): bool
    {
        return $scope === self::ROUTE || str_starts_with($scope, self::ROUTE . ':');
    }

    public static function routeScope(string $route): string
    {
        return self::ROUTE . ':' . $route;
    }

    /** Exact match, or `*` in the pattern as a wildcard anchored at both ends. */
    public static function matches(string $scope, string $pattern): bool
    {
        if (!str_contains($pattern, '*')) {
            return $scope === $pattern;
        }
        $regex = '/^' . str_replace('\*', '.*', preg_quote($pattern, '/')) . '$/sD';
        return preg_match($regex, $scope) === 1;
    }

    /**
     * Whether a scope that arrived from outside (a broker) may be acted on: non-empty, at
     * most 256 bytes, a built-in name or `[A-Za-z0-9_\-.:/]` with at most one `*` that is
     * not the first character.
     */
    public static function isValidWireScope(string $scope): bool
    {
        if ($scope === '' || strlen($scope) > self::MAX_WIRE_LENGTH) {
            return false;
        }
        if (self::isBuiltIn($scope)) {
            return true;
        }
        if (substr_count($scope, '*') > 1 || $scope[0] === '*') {
            return false;
        }
        return preg_match('#^[A-Za-z0-9_\-.:/*]+$#D', $scope) === 1;
    }
}
