<?php

declare(strict_types=1);

namespace Via\Framework\Tests\State;

use PHPUnit\Framework\TestCase;
use Via\Framework\State\RevivalStore;

final class RevivalStoreTest extends TestCase
{
    public function testRememberAndTakeOnce(): void
    {
        $s = new RevivalStore();
        $s->remember('c1', '/items/{id}', ['id' => '4'], 'sid', 60_000);
        self::assertSame(1, $s->count());
        $r = $s->take('c1');
        self::assertSame('/items/{id}', $r['route']);
        self::assertSame(['id' => '4'], $r['params']);
        self::assertSame('sid', $r['sessionId']);
        self::assertEqualsWithDelta(microtime(true) + 60, $r['expiresAt'], 1.0);
        self::assertSame([], $r['signals']);
        self::assertNull($s->take('c1'), 'taken');
        $s->restore('c1', $r);
        self::assertSame($r, $s->take('c1'));
    }

    public function testSignalValuesAreKeptUpToALimit(): void
    {
        $s = new RevivalStore();
        $s->remember('small', '/', [], null, 60_000, ['a_ctx' => 'v']);
        $s->remember('big', '/', [], null, 60_000, ['a_ctx' => str_repeat('x', RevivalStore::MAX_SIGNAL_BYTES)]);
        self::assertSame(['a_ctx' => 'v'], $s->take('small')['signals']);
        $big = $s->take('big');
        self::assertNotNull($big, 'the record is kept');
        self::assertSame([], $big['signals'], 'without values past the limit');
    }

    public function testAZeroWindowRemembersNothing(): void
    {
        $s = new RevivalStore();
        $s->remember('c1', '/', [], null, 0);
        self::assertSame(0, $s->count());
        self::assertNull($s->take('c1'));
    }

    public function testExpiredRecordsAreNotReturned(): void
    {
        $s = new RevivalStore();
        $s->remember('c1', '/', [], null, 1);
        usleep(3_000);
        self::assertNull($s->take('c1'));
        self::assertSame(0, $s->count());
    }

    public function testBoundedBySoonestExpiry(): void
    {
        $s = new RevivalStore();
        $s->remember('long', '/', [], null, 3_600_000);
        for ($i = 0; $i < RevivalStore::MAX_RECORDS; $i++) {
            $s->remember("c$i", '/', [], null, 60_000 + $i);
        }
        self::assertSame(RevivalStore::MAX_RECORDS + 1 - intdiv(RevivalStore::MAX_RECORDS, 100), $s->count());
        self::assertNotNull($s->take('long'));
        self::assertNull($s->take('c0'));
        self::assertNotNull($s->take('c' . (RevivalStore::MAX_RECORDS - 1)));
    }
}
