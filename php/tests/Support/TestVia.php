<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Support;

use Via\Framework\Context;
use Via\Framework\Via;

/** The app with its log kept in memory, so that tests can read it and stderr stays clean. */
final class TestVia extends Via
{
    /** @var list<array{0: string, 1: string}> */
    public array $logged = [];

    public function log(string $level, string $message, ?Context $ctx = null): void
    {
        $this->logged[] = [strtolower($level), $message];
    }

    /** Whether a line at $level containing $needle was logged. */
    public function hasLogged(string $level, string $needle): bool
    {
        foreach ($this->logged as [$l, $m]) {
            if ($l === $level && str_contains($m, $needle)) {
                return true;
            }
        }
        return false;
    }
}
