<?php

declare(strict_types=1);

namespace Via\Framework\Broker;

/**
 * Every server on one NATS (core NATS on `$subject`), every worker of each. The runtime
 * holds one connection per server, reconnects with backoff (1 s doubling to 30 s), and
 * reports failures to `Config::onBrokerError()` without credentials.
 */
final class NatsBroker extends RuntimeBroker
{
    public function __construct(
        string $host = '127.0.0.1',
        int $port = 4222,
        ?string $authToken = null,
        string $subject = 'via.broadcast',
        bool $tls = false,
        ?string $tlsCaFile = null,
        ?string $secret = null,
    ) {
        $auth = $authToken !== null ? rawurlencode($authToken) . '@' : '';
        parent::__construct(BrokerDsn::build($tls ? 'tls' : 'nats', $auth, $host, $port, $subject, $tlsCaFile, $secret));
    }
}
