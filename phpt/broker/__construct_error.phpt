--TEST--
Via\Broker::__construct(): malformed DSNs, unknown schemes and options
--FILE--
<?php
foreach (['', 'memory', 'ftp://x', 'workers://host',
          'memory://?max_payload=0', 'memory://?max_payload=abc', 'memory://?max_payload=100000000', 'memory://?nope=1',
          'redis://', 'redis://h/x', 'nats://h/x', 'redis://h?channel=a*b', 'nats://h?channel=', 'redis://h?secret=short',
          'redis://h?buffer=0', 'redis://h?ca=/etc/hosts', 'rediss://h?ca=/nonexistent', 'nats://h?echo=2',
          'redis://h?nope=1', 'redis://u:hunter22@h:99999', 'redis://h?max_payload=0'] as $dsn) {
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
Via\Broker::__construct(): unknown scheme "ftp" (supported: memory://, workers://, redis://, rediss://, nats://, tls://)
Via\Broker::__construct(): workers:// takes no host or path, "host" given
Via\Broker::__construct(): max_payload must be between 1 and 67108864, "0" given
Via\Broker::__construct(): max_payload must be between 1 and 67108864, "abc" given
Via\Broker::__construct(): max_payload must be between 1 and 67108864, "100000000" given
Via\Broker::__construct(): unknown DSN option "nope" (known: max_payload)
Via\Broker::__construct(): redis:// needs a host
Via\Broker::__construct(): the path of a redis:// DSN is a database number, "/x" given
Via\Broker::__construct(): a nats:// DSN has no path, "/x" given
Via\Broker::__construct(): channel must be 1 to 256 printable ASCII characters without spaces, * or >
Via\Broker::__construct(): channel must be 1 to 256 printable ASCII characters without spaces, * or >
Via\Broker::__construct(): secret must be at least 16 bytes
Via\Broker::__construct(): buffer must be between 1 and 268435456 bytes, "0" given
Via\Broker::__construct(): ca is for TLS only (rediss:// or tls://)
Via\Broker::__construct(): ca: "/nonexistent" is not a readable file
Via\Broker::__construct(): echo must be 0 or 1, "2" given
Via\Broker::__construct(): unknown DSN option "nope" (known: channel, secret, buffer, ca, echo, max_payload)
Via\Broker::__construct(): malformed redis:// DSN (invalid port number)
Via\Broker::__construct(): max_payload must be between 1 and 67108864, "0" given
