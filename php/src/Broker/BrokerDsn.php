<?php

declare(strict_types=1);

namespace Via\Framework\Broker;

/** @internal Builds the runtime DSN of a Redis or NATS broker from constructor arguments. */
final class BrokerDsn
{
    public static function build(string $scheme, string $auth, string $host, int $port, string $channel, ?string $caFile, ?string $secret): string
    {
        if ($host === '' || preg_match('/[\/?#@\s]/', $host)) {
            throw new \InvalidArgumentException("invalid broker host \"$host\"");
        }
        if ($port < 1 || $port > 65535) {
            throw new \InvalidArgumentException("broker port must be between 1 and 65535, $port given");
        }
        if (str_contains($host, ':') && !str_starts_with($host, '[')) {
            $host = "[$host]";
        }
        $query = ['channel' => $channel];
        if ($caFile !== null) {
            $query['ca'] = $caFile;
        }
        if ($secret !== null) {
            $query['secret'] = $secret;
        }
        return "$scheme://$auth$host:$port?" . http_build_query($query, '', '&', PHP_QUERY_RFC3986);
    }
}
