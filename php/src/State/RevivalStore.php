<?php

declare(strict_types=1);

namespace Via\Framework\State;

/**
 * What it takes to rebuild a destroyed context for a tab that comes back within the
 * revival window: its route, path parameters, session, and the last values of its TAB
 * signals (a tab that reconnects may resend the values it had when its stream first
 * opened; the server's are newer). Bounded to MAX_RECORDS, and signal values to
 * MAX_SIGNAL_BYTES of JSON per record (past that they are not kept).
 */
final class RevivalStore
{
    public const MAX_RECORDS = 10_000;
    public const MAX_SIGNAL_BYTES = 64 * 1024;

    /** @var array<string, array{route: string, params: array<string, string>, sessionId: ?string, expiresAt: float, signals: array<string, mixed>}> */
    private array $records = [];

    /**
     * @param array<string, string> $params
     * @param array<string, mixed> $signals TAB signal values by id
     */
    public function remember(string $contextId, string $route, array $params, ?string $sessionId, int $windowMs, array $signals = []): void
    {
        if ($windowMs <= 0) {
            return;
        }
        $now = microtime(true);
        // Kept in the order they were remembered, the oldest first: one remembered again
        // goes to the end.
        unset($this->records[$contextId]);
        $this->records[$contextId] = [
            'route' => $route,
            'params' => $params,
            'sessionId' => $sessionId,
            'expiresAt' => $now + $windowMs / 1000,
            'signals' => strlen((string) json_encode($signals)) <= self::MAX_SIGNAL_BYTES ? $signals : [],
        ];
        if (count($this->records) > self::MAX_RECORDS) {
            $this->evict($now);
        }
    }

    /**
     * Past the bound: the oldest hundredth goes, and any expired record right after it.
     * Amortized, a few records' work per call (it sorted all 10,000 every hundredth).
     */
    private function evict(float $now): void
    {
        $over = count($this->records) - self::MAX_RECORDS + max(1, intdiv(self::MAX_RECORDS, 100));
        $drop = 0;
        foreach ($this->records as $r) {
            if ($drop >= $over && $r['expiresAt'] > $now) {
                break;
            }
            $drop++;
        }
        $this->records = array_slice($this->records, $drop, null, true);
    }

    /** @return array{route: string, params: array<string, string>, sessionId: ?string, expiresAt: float, signals: array<string, mixed>}|null */
    public function take(string $contextId): ?array
    {
        $r = $this->records[$contextId] ?? null;
        unset($this->records[$contextId]);
        if ($r === null || $r['expiresAt'] < microtime(true)) {
            return null;
        }
        return $r;
    }

    /** Puts a record back (a revival that was refused for this requester). */
    public function restore(string $contextId, array $record): void
    {
        $this->records[$contextId] = $record;
    }

    public function count(): int
    {
        return count($this->records);
    }
}
