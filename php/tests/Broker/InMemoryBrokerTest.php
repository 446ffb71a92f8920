<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Broker;

use PHPUnit\Framework\TestCase;
use Via\Framework\Broker\InMemoryBroker;

final class InMemoryBrokerTest extends TestCase
{
    public function testConnectedOnlyBetweenConnectAndDisconnect(): void
    {
        $b = new InMemoryBroker();
        self::assertFalse($b->isConnected());
        $b->connect();
        self::assertTrue($b->isConnected());
        $b->disconnect();
        self::assertFalse($b->isConnected());
    }

    public function testNodeIdsAreUniqueHex(): void
    {
        $a = new InMemoryBroker();
        self::assertSame(1, preg_match('/^[0-9a-f]{16}$/', $a->getNodeId()));
        self::assertNotSame($a->getNodeId(), (new InMemoryBroker())->getNodeId());
        self::assertSame($a->getNodeId(), $a->getNodeId());
    }

    public function testPublishDeliversNothing(): void
    {
        $b = new InMemoryBroker();
        $got = [];
        $b->subscribe(function (string $scope) use (&$got): void {
            $got[] = $scope;
        });
        $b->publish('room:1');
        self::assertSame([], $got, 'one process: the publisher already synced its contexts');
    }
}
