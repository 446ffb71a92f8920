<?php

declare(strict_types=1);

namespace Via\Framework\Tests\State;

use PHPUnit\Framework\TestCase;
use Via\Framework\State\SessionStore;

final class SessionStoreTest extends TestCase
{
    public function testGetSetClear(): void
    {
        $s = new SessionStore();
        self::assertSame('d', $s->get('a', 'k', 'd'));
        $s->set('a', 'k', null);
        self::assertNull($s->get('a', 'k', 'd'), 'a stored null is a value');
        $s->set('a', 'j', 2);
        $s->clear('a', 'k');
        self::assertSame('d', $s->get('a', 'k', 'd'));
        self::assertSame(2, $s->get('a', 'j'));
        $s->clear('a');
        self::assertSame(0, $s->count());
    }

    public function testTheLeastRecentlyUsedAreEvicted(): void
    {
        $s = new SessionStore();
        for ($i = 0; $i < SessionStore::MAX_SESSIONS; $i++) {
            $s->set("s$i", 'k', $i);
        }
        self::assertSame(SessionStore::MAX_SESSIONS, $s->count());
        self::assertSame(0, $s->get('s0', 'k'), 'reading s0 makes it recent');
        $s->set('s1', 'k', 'written');
        $s->set('new', 'k', 1);
        $evicted = intdiv(SessionStore::MAX_SESSIONS, 100);
        self::assertSame(SessionStore::MAX_SESSIONS + 1 - $evicted, $s->count());
        self::assertSame(0, $s->get('s0', 'k'));
        self::assertSame('written', $s->get('s1', 'k'));
        self::assertNull($s->get('s2', 'k'), 'the oldest untouched ones went');
        self::assertNull($s->get('s' . ($evicted + 1), 'k'));
        self::assertSame($evicted + 2, $s->get('s' . ($evicted + 2), 'k'));
        self::assertSame(1, $s->get('new', 'k'));
    }
}
