<?php

declare(strict_types=1);

namespace Via\Framework\State;

/**
 * Per-session key/value data of this process, kept across contexts. Bounded: past
 * MAX_SESSIONS the least recently used 1% are evicted.
 */
final class SessionStore
{
    public const MAX_SESSIONS = 10_000;

    /** @var array<string, array<string, mixed>> most recently used last */
    private array $data = [];

    public function get(string $sid, string $key, mixed $default = null): mixed
    {
        if (!isset($this->data[$sid])) {
            return $default;
        }
        $this->touch($sid);
        return array_key_exists($key, $this->data[$sid]) ? $this->data[$sid][$key] : $default;
    }

    public function set(string $sid, string $key, mixed $value): void
    {
        $session = $this->data[$sid] ?? [];
        unset($this->data[$sid]);
        $session[$key] = $value;
        $this->data[$sid] = $session;
        if (count($this->data) > self::MAX_SESSIONS) {
            $evict = max(1, intdiv(self::MAX_SESSIONS, 100));
            $this->data = array_slice($this->data, $evict, null, true);
        }
    }

    public function clear(string $sid, ?string $key = null): void
    {
        if ($key === null) {
            unset($this->data[$sid]);
        } else {
            unset($this->data[$sid][$key]);
        }
    }

    public function count(): int
    {
        return count($this->data);
    }

    private function touch(string $sid): void
    {
        $session = $this->data[$sid];
        unset($this->data[$sid]);
        $this->data[$sid] = $session;
    }
}
