<?php

declare(strict_types=1);

namespace Via\Framework\Rendering;

use Via\Framework\Scope;

/**
 * Update renders shared by the contexts of a scope until the next broadcast to that scope.
 * Within a scope a render is kept per page (route pattern and path parameters): pages of
 * different routes, or of one route with other parameters, may share a scope but not their
 * HTML. A broadcast to 2,000 tabs on one page renders once.
 */
final class ViewCache
{
    /** @var array<string, array<string, string>> scope → page → HTML */
    private array $entries = [];

    /**
     * The key of a page within its scope: its route pattern and path parameters.
     *
     * @param array<string, string> $params
     */
    public static function page(string $route, array $params): string
    {
        ksort($params);
        return $route . '?' . http_build_query($params);
    }

    public function get(string $scope, string $page): ?string
    {
        return $this->entries[$scope][$page] ?? null;
    }

    public function put(string $scope, string $page, string $html): void
    {
        $this->entries[$scope][$page] = $html;
    }

    /** Drops the renders of $scope; `route` drops every `route:*` scope, `*` is a wildcard. */
    public function invalidate(string $scope): void
    {
        if ($scope !== Scope::ROUTE && !str_contains($scope, '*')) {
            unset($this->entries[$scope]);
            return;
        }
        foreach (array_keys($this->entries) as $cached) {
            $cached = (string) $cached;
            if ($scope === Scope::ROUTE ? Scope::isRouteBased($cached) : Scope::matches($cached, $scope)) {
                unset($this->entries[$cached]);
            }
        }
    }

    public function clear(): void
    {
        $this->entries = [];
    }

    /** Renders kept, over every scope. */
    public function count(): int
    {
        return array_sum(array_map('count', $this->entries));
    }
}
