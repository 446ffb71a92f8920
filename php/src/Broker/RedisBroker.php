<?php

declare(strict_types=1);

namespace Via\Framework\Broker;

/**
 * Every server on one Redis (pub/sub on `$channel`), every worker of each. The runtime
 * holds one connection per server, reconnects with backoff (1 s doubling to 30 s), and
 * reports failures to `Config::onBrokerError()` without credentials.
 */
final class RedisBroker extends RuntimeBroker
{
    public function __construct(
        string $host = '127.0.0.1',
        int $port = 6379,
        ?string $password = null,
        ?string $username = null,
        string $channel = 'via:broadcast',
        bool $tls = false,
        ?string $tlsCaFile = null,
        ?string $secret = null,
    ) {
        $auth = '';
        if ($password !== null) {
            $auth = rawurlencode($username ?? 'default') . ':' . rawurlencode($password) . '@';
        }
        parent::__construct(BrokerDsn::build($tls ? 'rediss' : 'redis', $auth, $host, $port, $channel, $tlsCaFile, $secret));
    }
}
