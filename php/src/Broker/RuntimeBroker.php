<?php

declare(strict_types=1);

namespace Via\Framework\Broker;

/**
 * A broker carried by the runtime's `Via\Broker`: scope invalidations travel as
 * `{"scope": …, "nodeId": …}` on one topic, and a node drops what it sent itself.
 *
 * The `Via\Broker` is made in the constructor, before `start()`, so that every worker
 * forked from this process shares it; the node id is made per process on `connect()`,
 * so that workers of one server are different nodes.
 */
abstract class RuntimeBroker implements MessageBroker
{
    /** The runtime topic scope invalidations travel on. */
    public const TOPIC = 'via:scope';

    private readonly \Via\Broker $broker;
    private ?string $nodeId = null;
    /** @var list<callable(string): void> */
    private array $handlers = [];
    private bool $subscribed = false;
    /** @var list<callable(\Throwable): void> */
    private array $errorHandlers = [];

    protected function __construct(private readonly string $dsn)
    {
        $this->broker = new \Via\Broker($dsn);
        $this->broker->onError(function (\Throwable $e): void {
            foreach ($this->errorHandlers as $handler) {
                $handler($e);
            }
        });
    }

    /** php-via's hook for `Config::onBrokerError()`. */
    public function setErrorHandler(callable $handler): void
    {
        $this->errorHandlers[] = $handler;
    }

    public function connect(): void
    {
        $this->nodeId = null;
        if (!$this->subscribed) {
            $this->subscribed = true;
            $this->broker->subscribe(self::TOPIC, fn (string $payload) => $this->receive($payload), false);
        }
    }

    public function disconnect(): void
    {
        if ($this->subscribed) {
            $this->subscribed = false;
            $this->broker->unsubscribe(self::TOPIC);
        }
    }

    public function publish(string $scope): void
    {
        $this->broker->publish(self::TOPIC, json_encode(['scope' => $scope, 'nodeId' => $this->getNodeId()], JSON_THROW_ON_ERROR));
    }

    public function subscribe(callable $handler): void
    {
        $this->handlers[] = $handler;
    }

    public function getNodeId(): string
    {
        return $this->nodeId ??= bin2hex(random_bytes(8));
    }

    public function isConnected(): bool
    {
        return $this->subscribed && $this->broker->isConnected();
    }

    /** The runtime DSN this broker was made with (it holds the credentials given). */
    public function dsn(): string
    {
        return $this->dsn;
    }

    /** The runtime broker's counters (published, delivered, dropped; a shared one's connection). */
    public function stats(): array
    {
        return $this->broker->stats();
    }

    private function receive(string $payload): void
    {
        $message = json_decode($payload, true);
        if (!is_array($message) || !is_string($message['scope'] ?? null) || !is_string($message['nodeId'] ?? null)) {
            return;
        }
        if ($message['nodeId'] === $this->getNodeId()) {
            return;
        }
        foreach ($this->handlers as $handler) {
            $handler($message['scope']);
        }
    }
}
