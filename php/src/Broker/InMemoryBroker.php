<?php

declare(strict_types=1);

namespace Via\Framework\Broker;

/** One process, nothing to carry: publish is a no-op. */
final class InMemoryBroker implements MessageBroker
{
    private bool $connected = false;
    private readonly string $nodeId;

    public function __construct()
    {
        $this->nodeId = bin2hex(random_bytes(8));
    }

    public function connect(): void
    {
        $this->connected = true;
    }

    public function disconnect(): void
    {
        $this->connected = false;
    }

    public function publish(string $scope): void
    {
    }

    public function subscribe(callable $handler): void
    {
    }

    public function getNodeId(): string
    {
        return $this->nodeId;
    }

    public function isConnected(): bool
    {
        return $this->connected;
    }
}
