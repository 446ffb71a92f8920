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

    public function testBoundedByAgeTheOldestGoFirst(): void
    {
        $s = new RevivalStore();
        $s->remember('first', '/', [], null, 60_000);
        $s->remember('again', '/', [], null, 60_000);
        for ($i = 0; $i < RevivalStore::MAX_RECORDS - 1; $i++) {
            $s->remember("c$i", '/', [], null, 60_000);
            if ($i === 500) {
                $s->remember('again', '/', [], null, 60_000); // remembered anew: young again
            }
        }
        $hundredth = intdiv(RevivalStore::MAX_RECORDS, 100);
        self::assertSame(RevivalStore::MAX_RECORDS - $hundredth, $s->count(), 'the oldest hundredth went');
        self::assertNull($s->take('first'));
        self::assertNull($s->take('c' . ($hundredth - 1)));
        self::assertNotNull($s->take('c' . $hundredth));
        self::assertNotNull($s->take('again'));
    }

    public function testExpiredRecordsAfterTheOldestGoWithThem(): void
    {
        $s = new RevivalStore();
        for ($i = 0; $i < 500; $i++) {
            $s->remember("old$i", '/', [], null, 1);
        }
        usleep(3_000);
        for ($i = 0; $i <= RevivalStore::MAX_RECORDS - 500; $i++) {
            $s->remember("c$i", '/', [], null, 60_000);
        }
        self::assertSame(RevivalStore::MAX_RECORDS - 499, $s->count(), 'all 500 expired went at once');
        self::assertNotNull($s->take('c0'));
    }
}
