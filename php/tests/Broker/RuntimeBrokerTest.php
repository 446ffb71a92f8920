<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Broker;

use PHPUnit\Framework\TestCase;
use Via\Framework\Broker\NatsBroker;
use Via\Framework\Broker\RedisBroker;
use Via\Framework\Broker\RuntimeBroker;
use Via\Framework\Broker\WorkersBroker;

final class RuntimeBrokerTest extends TestCase
{
    public function testRedisBrokerBuildsItsDsnFromPhpViasArguments(): void
    {
        self::assertSame('redis://127.0.0.1:6379?channel=via%3Abroadcast', (new RedisBroker())->dsn());
        $ca = tempnam(sys_get_temp_dir(), 'ca');
        try {
            self::assertSame(
                'rediss://app:p%40ss@cache.internal:6380?channel=room&ca=' . rawurlencode($ca),
                (new RedisBroker('cache.internal', 6380, 'p@ss', 'app', 'room', true, $ca))->dsn(),
            );
        } finally {
            unlink($ca);
        }
        self::assertSame('redis://default:pw@[::1]:6379?channel=c', (new RedisBroker('::1', 6379, 'pw', null, 'c'))->dsn());
    }

    public function testNatsBrokerBuildsItsDsnFromPhpViasArguments(): void
    {
        self::assertSame('nats://127.0.0.1:4222?channel=via.broadcast', (new NatsBroker())->dsn());
        self::assertSame(
            'tls://t%2Fk@n:4333?channel=s&secret=0123456789abcdef',
            (new NatsBroker('n', 4333, 't/k', 's', true, null, '0123456789abcdef'))->dsn(),
        );
    }

    public function testBadArgumentsAreRefusedBeforeAnythingConnects(): void
    {
        foreach ([fn () => new RedisBroker('a/b'), fn () => new RedisBroker('h', 0), fn () => new NatsBroker('h', 70000)] as $make) {
            try {
                $make();
                self::fail('no exception');
            } catch (\InvalidArgumentException $e) {
                self::assertMatchesRegularExpression('/broker (host|port)/', $e->getMessage());
            }
        }
        $this->expectException(\ValueError::class);
        new RedisBroker('h', 6379, null, null, 'bad channel');
    }

    public function testNotConnectedUntilAServerRuns(): void
    {
        $b = new RedisBroker('127.0.0.1', 6399);
        $b->connect();
        self::assertFalse($b->isConnected());
        $w = new WorkersBroker();
        self::assertFalse($w->isConnected(), 'not before connect()');
        $w->connect();
        self::assertTrue($w->isConnected(), 'one process: its own workers');
        $w->disconnect();
        self::assertFalse($w->isConnected());
    }

    public function testAMessageFromAnotherNodeReachesTheHandlersAndOurOwnDoesNot(): void
    {
        $b = new WorkersBroker();
        $got = [];
        $b->subscribe(function (string $scope) use (&$got): void {
            $got[] = $scope;
        });
        $b->connect();
        $receive = new \ReflectionMethod(RuntimeBroker::class, 'receive');
        $receive->invoke($b, json_encode(['scope' => 'route:/a', 'nodeId' => 'ffffffffffffffff']));
        $receive->invoke($b, json_encode(['scope' => 'route:/own', 'nodeId' => $b->getNodeId()]));
        foreach (['', 'null', '{"scope":1,"nodeId":"x"}', '{"scope":"s"}', '[1,2]'] as $bad) {
            $receive->invoke($b, $bad);
        }
        self::assertSame(['route:/a'], $got);
    }

    public function testPublishSendsTheScopeAndNodeIdAsJson(): void
    {
        $b = new WorkersBroker();
        $b->connect();
        // A raw runtime broker on the same bus sees what goes on the wire (its own too).
        $raw = new \Via\Broker('workers://');
        $wire = [];
        $raw->subscribe(RuntimeBroker::TOPIC, function (string $payload) use (&$wire): void {
            $wire[] = $payload;
        });
        $b->publish('session:abc');
        \Via\run();
        self::assertSame(1, $b->stats()['published']);
        self::assertSame([['scope' => 'session:abc', 'nodeId' => $b->getNodeId()]], array_map(
            fn (string $p) => json_decode($p, true, 4, JSON_THROW_ON_ERROR),
            $wire,
        ));
        self::assertSame(1, preg_match('/^[0-9a-f]{16}$/', $b->getNodeId()));
        $nodeId = $b->getNodeId();
        $b->connect();
        self::assertNotSame($nodeId, $b->getNodeId(), 'a worker forked later is another node');
    }
}
