<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Support;

use Via\Framework\Broker\MessageBroker;

/** A broker that records what is published and lets a test deliver scopes "from another node". */
final class SpyBroker implements MessageBroker
{
    /** @var list<string> */
    public array $published = [];
    public bool $connected = true;
    /** @var list<callable(string): void> */
    private array $handlers = [];

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
        $this->published[] = $scope;
    }

    public function subscribe(callable $handler): void
    {
        $this->handlers[] = $handler;
    }

    /** A scope arriving from another node. */
    public function deliver(string $scope): void
    {
        foreach ($this->handlers as $handler) {
            $handler($scope);
        }
    }

    public function getNodeId(): string
    {
        return 'spy';
    }

    public function isConnected(): bool
    {
        return $this->connected;
    }
}
