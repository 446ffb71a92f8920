--TEST--
Via\Broker::__construct(): malformed DSNs, unknown schemes and options
--FILE--
<?php
foreach (['', 'memory', 'ftp://x', 'redis://127.0.0.1:6379', 'nats://localhost', 'workers://host',
          'memory://?max_payload=0', 'memory://?max_payload=abc', 'memory://?max_payload=100000000', 'memory://?nope=1'] as $dsn) {
    try {
        new Via\Broker($dsn);
        echo "no error: $dsn\n";
    } catch (ValueError $e) {
        echo $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
Via\Broker::__construct(): "" is not a DSN (scheme://...)
Via\Broker::__construct(): "memory" is not a DSN (scheme://...)
Via\Broker::__construct(): unknown scheme "ftp" (supported: memory://, workers://)
Via\Broker::__construct(): redis:// is not available in this build (supported: memory://, workers://)
Via\Broker::__construct(): nats:// is not available in this build (supported: memory://, workers://)
Via\Broker::__construct(): workers:// takes no host or path, "host" given
Via\Broker::__construct(): max_payload must be between 1 and 67108864, "0" given
Via\Broker::__construct(): max_payload must be between 1 and 67108864, "abc" given
Via\Broker::__construct(): max_payload must be between 1 and 67108864, "100000000" given
Via\Broker::__construct(): unknown DSN option "nope" (known: max_payload)
