<?php

declare(strict_types=1);

namespace Via\Framework\Broker;

/**
 * The workers of one server (php-via's SwooleBroker role): invalidations go through the
 * runtime's master to every other worker. Use with `withWorkerNum(N > 1)` on one machine.
 */
final class WorkersBroker extends RuntimeBroker
{
    public function __construct()
    {
        parent::__construct('workers://');
    }
}
