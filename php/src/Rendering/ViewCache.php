<?php

declare(strict_types=1);

namespace Via\Framework\Rendering;

/**
 * Update renders shared by every context of a scope (`{scope}:update`), until the next
 * broadcast to that scope. A broadcast to 2,000 tabs on one route renders once.
 */
final class ViewCache
{
    /** @var array<string, string> */
    private array $entries = [];

    public function get(string $key): ?string
    {
        return $this->entries[$key] ?? null;
    }

    public function put(string $key, string $html): void
    {
        $this->entries[$key] = $html;
    }

    /** Drops the entry of $scope; `route` drops every `route:*` entry. */
    public function invalidate(string $scope): void
    {
        if ($scope === 'route' || str_contains($scope, '*')) {
            $regex = $scope === 'route'
                ? '/^route:/'
                : '/^' . str_replace('\*', '.*', preg_quote($scope, '/')) . ':update$/sD';
            foreach (array_keys($this->entries) as $key) {
                if (preg_match($regex, (string) $key) === 1) {
                    unset($this->entries[$key]);
                }
            }
            return;
        }
        unset($this->entries[$scope . ':update']);
    }

    public function clear(): void
    {
        $this->entries = [];
    }

    public function count(): int
    {
        return count($this->entries);
    }
}
