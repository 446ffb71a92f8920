<?php

declare(strict_types=1);

namespace Via\Framework\Broker;

/**
 * Carries scope invalidations between processes and servers: `{scope, nodeId}`, nothing
 * else. A node re-renders its own contexts of that scope when one arrives.
 */
interface MessageBroker
{
    /** Called at worker start, inside a task; may suspend. */
    public function connect(): void;

    public function disconnect(): void;

    /** Announces that $scope changed. Never called for `tab`. */
    public function publish(string $scope): void;

    /** @param callable(string): void $handler called for every scope from another node */
    public function subscribe(callable $handler): void;

    /** Unique per process. */
    public function getNodeId(): string;

    public function isConnected(): bool;
}
