<?php

declare(strict_types=1);

namespace Via\Framework\Http;

/** Signals that cannot be read; carries the status to answer with. */
final class SignalError extends \RuntimeException
{
    public function __construct(public readonly int $status, string $message)
    {
        parent::__construct($message);
    }
}
