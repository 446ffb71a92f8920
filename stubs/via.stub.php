<?php

// Stubs for via

namespace Via {
    /**
     * Publish/subscribe: memory:// (this process), workers:// (every worker of this server),
     * or a shared Redis or NATS broker (every server on it). Subscribers run in their own
     * task: function (string $payload, string $topic, int $origin), $origin being the
     * publishing worker's number, or -1 for a message from another server.
     */
    class Broker {
        /**
         * A broker for $dsn: "memory://" or "memory://name" (the brokers of this process
         * with that name), "workers://" (every worker of this server),
         * "redis://[user:password@]host[:port][/db]", "rediss://…" (TLS),
         * "nats://[token@|user:password@]host[:port]" or "tls://…" (NATS over TLS): every
         * server on that broker, one connection per server, made when it starts serving.
         * Options: ?max_payload=bytes (default 1 MiB); for Redis and NATS also channel (the
         * channel or subject, default "via"), secret (≥ 16 bytes: messages are signed with
         * HMAC-SHA256 and only messages signed with it are taken), buffer (bytes held while
         * the broker is down, default 1 MiB; past it publish() drops and counts), ca (a PEM
         * file of CA certificates, TLS only), echo=1 (this server gets its own messages back
         * from the broker too).
         *
         * @throws \ValueError for a malformed DSN, an unknown scheme or option
         *
         * @param string $dsn
         */
        public function __construct(string $dsn) {}

        /**
         * Drops every subscription and callback; the broker cannot be used afterwards.
         *
         * @return void
         */
        public function close(): void {}

        /**
         * The DSN it was created with.
         *
         * @return string
         */
        public function dsn(): string {}

        /**
         * Whether messages can flow: always for memory://; for workers://, whether this
         * worker's link to the master is up.
         *
         * @return bool
         */
        public function isConnected(): bool {}

        /**
         * Runs $callback(\Via\BrokerException $e) in a task whenever the connection to a
         * shared broker fails or breaks (the message names the broker, never its
         * credentials). memory:// and workers:// brokers never call it.
         *
         * @throws \Via\BrokerException when the broker is closed
         *
         * @param callable $callback
         * @return void
         */
        public function onError(callable $callback): void {}

        /**
         * Sends $payload to every subscriber of $topic (in every worker, for workers://),
         * this process's included.
         *
         * @throws \ValueError for an empty or too long topic, or a payload over max_payload
         * @throws \Via\BrokerException when the broker is closed or not connected
         *
         * @param string $topic
         * @param string $payload
         * @return void
         */
        public function publish(string $topic, string $payload): void {}

        /**
         * Counters: published (by this broker), delivered (callbacks run for its
         * subscriptions), dropped (messages that could not be sent). A shared broker adds
         * its connection's: connected, sent, rejected (unsigned, badly signed or malformed
         * messages), own_skipped (this server's messages come back), reconnects and
         * queued_bytes (waiting while the broker is down or behind).
         *
         * @return array
         */
        public function stats(): array {}

        /**
         * Runs $callback for every message on $topic: function (string $payload, string
         * $topic, int $origin). With $own = false, messages published by this worker are
         * skipped.
         *
         * @throws \ValueError for an empty or too long topic
         * @throws \Via\BrokerException when the broker is closed
         *
         * @param string $topic
         * @param callable $callback
         * @param bool $own
         * @return void
         */
        public function subscribe(string $topic, callable $callback, bool $own = true): void {}

        /**
         * Removes this broker's subscriptions to $topic; false when it had none.
         *
         * @throws \ValueError for an empty or too long topic
         *
         * @param string $topic
         * @return bool
         */
        public function unsubscribe(string $topic): bool {}
    }

    /**
     * A bounded FIFO for passing values between tasks. Values stay PHP values (no copy,
     * no serialisation); the channel holds references, so close() a channel whose values
     * refer back to it to free the cycle.
     */
    class Channel {
        /**
         * A channel holding up to $capacity values (at least 1).
         *
         * @throws \ValueError when $capacity < 1
         *
         * @param int $capacity
         */
        public function __construct(int $capacity = 1) {}

        /**
         * The capacity given at construction.
         *
         * @return int
         */
        public function capacity(): int {}

        /**
         * Closes the channel: waiting and later push() return false; pop() returns the
         * values still queued, then Via\ChannelState::Closed. Idempotent.
         *
         * @return void
         */
        public function close(): void {}

        /**
         * @return bool
         */
        public function isClosed(): bool {}

        /**
         * @return bool
         */
        public function isEmpty(): bool {}

        /**
         * @return bool
         */
        public function isFull(): bool {}

        /**
         * Number of queued values.
         *
         * @return int
         */
        public function length(): int {}

        /**
         * Takes the oldest value, waiting up to $timeout seconds (null, negative, INF or more
         * than 365 days = no limit, 0 = do not wait). Returns Via\ChannelState::Timeout when
         * the time passed and Via\ChannelState::Closed once the channel is closed and empty.
         *
         * @throws \ValueError for a NAN timeout
         * @throws \Via\Exception when waiting is impossible (it would wait forever)
         *
         * @param float|null $timeout
         * @return mixed
         */
        public function pop(?float $timeout = null): mixed {}

        /**
         * Adds a value, waiting while the channel is full (up to $timeout seconds; null,
         * negative, INF or more than 365 days = no limit, 0 = do not wait). A waiting pop()
         * receives it at once. Returns false when the channel is closed or the timeout passed.
         *
         * @throws \ValueError for a NAN timeout
         * @throws \Via\Exception when waiting is impossible (it would wait forever)
         *
         * @param mixed $value
         * @param float|null $timeout
         * @return bool
         */
        public function push(mixed $value, ?float $timeout = null): bool {}
    }

    /**
     * What `Channel::pop()` returns when no value came.
     */
    enum ChannelState {
    /**
     * The channel is closed and empty: no value will ever come.
     */
      case Closed;
    /**
     * The timeout passed first.
     */
      case Timeout;
    }

    /**
     * An HTTP request (read-only).
     */
    class Request {
        /**
         * Builds a request from plain values, for tests: keys method, uri, protocol ("1.0",
         * "1.1", "2"), headers (name => string|list), body, remote_addr, remote_port, scheme
         * ("http"|"https"), post (array, replaces the parsed body), files ($_FILES shape).
         *
         * @throws \ValueError for an unknown key or an invalid value
         *
         * @param array|null $init
         */
        public function __construct(?array $init = null) {}

        /**
         * The raw body, binary-safe ("" for multipart/form-data, as php://input).
         *
         * @return string
         */
        public function body(): string {}

        /**
         * The cookies (PHP's $_COOKIE rules), or one of them.
         *
         * @param mixed $name
         * @param mixed $default
         * @return mixed
         */
        public function cookie(mixed $name = null, mixed $default = null): mixed {}

        /**
         * Uploaded files in PHP's $_FILES shape (name, full_path, type, tmp_name, error,
         * size). The temporary files are removed when the request object is destroyed:
         * rename() what you want to keep.
         *
         * @return array
         */
        public function files(): array {}

        /**
         * Whether a header is present (case-insensitive).
         *
         * @param string $name
         * @return bool
         */
        public function hasHeader(string $name): bool {}

        /**
         * One header, case-insensitive; repeated values joined with ", " ("; " for Cookie).
         *
         * @param string $name
         * @return string|null
         */
        public function header(string $name): ?string {}

        /**
         * Every value of one header, in order.
         *
         * @param string $name
         * @return array
         */
        public function headerValues(string $name): array {}

        /**
         * All headers: lower-case name => value (repeated values joined).
         *
         * @return array
         */
        public function headers(): array {}

        /**
         * The Host header (HTTP/1) or :authority (HTTP/2).
         *
         * @return string
         */
        public function host(): string {}

        /**
         * A number unique to this request within the server run (0 for constructed ones).
         *
         * @return int
         */
        public function id(): int {}

        /**
         * A body field, else a query parameter, else $default (POST wins, as in $_REQUEST).
         *
         * @param mixed $key
         * @param mixed $default
         * @return mixed
         */
        public function input(mixed $key, mixed $default = null): mixed {}

        /**
         * The method as sent, e.g. "GET", "POST", "QUERY".
         *
         * @return string
         */
        public function method(): string {}

        /**
         * The caller's span id from a valid `traceparent` header, or null.
         *
         * @return string|null
         */
        public function parentSpanId(): ?string {}

        /**
         * The path without the query string, not percent-decoded ("/a%20b").
         *
         * @return string
         */
        public function path(): string {}

        /**
         * The parsed body fields (urlencoded or multipart; PHP's $_POST shape), or one value.
         *
         * @param mixed $key
         * @param mixed $default
         * @return mixed
         */
        public function post(mixed $key = null, mixed $default = null): mixed {}

        /**
         * "1.0", "1.1" or "2".
         *
         * @return string
         */
        public function protocolVersion(): string {}

        /**
         * The parsed query string (PHP's $_GET shape: a[]=1&b[x]=2), or one value of it.
         *
         * @param mixed $key
         * @param mixed $default
         * @return mixed
         */
        public function query(mixed $key = null, mixed $default = null): mixed {}

        /**
         * The raw query string without "?" ("" when there is none).
         *
         * @return string
         */
        public function queryString(): string {}

        /**
         * The client's IP address (behind a proxy listed in `trusted_proxies`: the address it
         * forwarded).
         *
         * @return string
         */
        public function remoteAddress(): string {}

        /**
         * The client's port.
         *
         * @return int
         */
        public function remotePort(): int {}

        /**
         * The client's `X-Request-Id` when it is a short token (1–128 of A-Z a-z 0-9
         * -_.:+/=@), else the trace id.
         *
         * @return string
         */
        public function requestId(): string {}

        /**
         * "https" when the connection used TLS, else "http".
         *
         * @return string
         */
        public function scheme(): string {}

        /**
         * A $_SERVER-like array (REQUEST_METHOD, REQUEST_URI, QUERY_STRING, SERVER_PROTOCOL,
         * REMOTE_ADDR, REMOTE_PORT, SERVER_ADDR, SERVER_PORT, HTTPS, CONTENT_TYPE,
         * CONTENT_LENGTH, HTTP_*), for libraries that build PSR-7 requests from it.
         *
         * @return array
         */
        public function server(): array {}

        /**
         * This server's span id for the request (16 hex digits).
         *
         * @return string
         */
        public function spanId(): string {}

        /**
         * The request target: path and query as sent ("/a/b?x=1").
         *
         * @return string
         */
        public function target(): string {}

        /**
         * The W3C trace id (32 hex digits): the caller's, from a valid `traceparent` header,
         * else a new one. The access log records the same.
         *
         * @return string
         */
        public function traceId(): string {}

        /**
         * The `traceparent` value for calls this request makes (its trace, this server's
         * span), e.g. "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".
         *
         * @return string
         */
        public function traceparent(): string {}
    }

    /**
     * An HTTP response. Obtained in a request handler; `new Via\Response()` makes a detached
     * one (no connection) whose status, headers and body can be inspected, for tests.
     */
    class Response {
        /**
         * Creates a detached response that is not connected to a client. Everything it
         * is given can be read back with getStatus(), getHeaders() and getBody().
         */
        public function __construct() {}

        /**
         * Adds a Set-Cookie header. Options: expires (Unix time), max_age, path, domain,
         * secure, httponly, samesite ("Strict"|"Lax"|"None"), partitioned, raw (send the
         * value without URL-encoding). An empty value deletes the cookie, as setcookie() does.
         *
         * @throws \ValueError for an invalid name, value or option
         * @throws \Via\Exception once headers were sent
         *
         * @param string $name
         * @param string|null $value
         * @param array|null $options
         * @return \Via\Response
         */
        public function cookie(string $name, ?string $value = null, ?array $options = null): \Via\Response {}

        /**
         * Sends the last (or only) part of the body and ends the response. The handler may
         * keep running afterwards (background work). Returns false if the client is gone.
         *
         * @throws \Via\Exception when the response has already ended
         *
         * @param string|null $data
         * @return bool
         */
        public function end(?string $data = null): bool {}

        /**
         * The body written so far — detached responses only (a connected response does not
         * keep what it sent).
         *
         * @return string
         */
        public function getBody(): string {}

        /**
         * The values of one header joined with ", ", or null.
         *
         * @param string $name
         * @return string|null
         */
        public function getHeader(string $name): ?string {}

        /**
         * All headers not yet sent: lower-case name => list of values.
         *
         * @return array
         */
        public function getHeaders(): array {}

        /**
         * The status code set so far (200 by default).
         *
         * @return int
         */
        public function getStatus(): int {}

        /**
         * Sets a header, replacing earlier values of the same name unless $replace is false
         * (then the value is added: repeated headers such as Set-Cookie).
         *
         * @throws \ValueError for an invalid name or a value with CR, LF or NUL
         * @throws \Via\Exception once headers were sent
         *
         * @param string $name
         * @param string $value
         * @param bool $replace
         * @return \Via\Response
         */
        public function header(string $name, string $value, bool $replace = true): \Via\Response {}

        /**
         * Whether status and headers were sent (after the first write() or end()).
         *
         * @return bool
         */
        public function headersSent(): bool {}

        /**
         * Whether end() (or redirect()) was called.
         *
         * @return bool
         */
        public function isEnded(): bool {}

        /**
         * Whether a write would still reach the client.
         *
         * @return bool
         */
        public function isWritable(): bool {}

        /**
         * Redirects: sets Location and the status (302 by default) and ends.
         *
         * @throws \ValueError for a status that is not 3xx or a URL with CR, LF or NUL
         * @throws \Via\Exception once headers were sent
         *
         * @param string $url
         * @param int $status
         * @return bool
         */
        public function redirect(string $url, int $status = 302): bool {}

        /**
         * Removes every value of a header.
         *
         * @throws \Via\Exception once headers were sent
         *
         * @param string $name
         * @return \Via\Response
         */
        public function removeHeader(string $name): \Via\Response {}

        /**
         * Turns the response into a Server-Sent Events stream: sets Content-Type
         * text/event-stream, Cache-Control no-cache and X-Accel-Buffering no, sends the headers
         * at once, and returns the stream. $retry (ms) tells clients how long to wait before
         * reconnecting. Compression (Brotli or gzip, as the client accepts), heartbeats and
         * backpressure follow the server's options.
         *
         * @throws \Via\Exception once headers were sent
         *
         * @param int|null $retry
         * @return \Via\SSE
         */
        public function sse(?int $retry = null): \Via\SSE {}

        /**
         * Sets the status code (200–999) and optionally a reason phrase. The reason is bytes,
         * written as given on HTTP/1.1 (any byte but control characters: CR, LF, NUL…; tab
         * is allowed); HTTP/2 has no reason phrase.
         *
         * @throws \ValueError for a code outside 200–999 or a reason with control characters
         * @throws \Via\Exception once headers were sent
         *
         * @param int $code
         * @param string|null $reason
         * @return \Via\Response
         */
        public function status(int $code, ?string $reason = null): \Via\Response {}

        /**
         * Sends a chunk at once: status and headers go out with the first write (chunked on
         * HTTP/1.1, DATA frames on HTTP/2). Waits (inside a task) while a slow client has
         * more than 1 MiB queued; one that takes nothing for `write_timeout` is cut off.
         * Returns false once the client is gone or cut off.
         *
         * @throws \Via\Exception after end()
         *
         * @param string $data
         * @return bool
         */
        public function write(string $data): bool {}
    }

    /**
     * A Server-Sent Events stream, from `Via\Response::sse()`.
     */
    class SSE {
        public function __construct() {}

        /**
         * Ends the stream once queued events are sent; runs the onClose callbacks.
         *
         * @return void
         */
        public function close(): void {}

        /**
         * Sends a comment (ignored by EventSource; keeps intermediaries awake).
         *
         * @param string $text
         * @return bool
         */
        public function comment(string $text): bool {}

        /**
         * The content coding of the stream: "br", "gzip" or "identity".
         *
         * @return string
         */
        public function encoding(): string {}

        /**
         * A number identifying the stream within the process (0 for a detached response).
         *
         * @return int
         */
        public function id(): int {}

        /**
         * Whether events can still be sent (false once the client left or close() ran).
         *
         * @return bool
         */
        public function isOpen(): bool {}

        /**
         * Joins a topic: Via\Server::publish() to it reaches this stream, and the stream
         * stays open after the handler returns until the client leaves.
         *
         * @throws \ValueError for an empty topic
         *
         * @param string $topic
         * @return \Via\SSE
         */
        public function join(string $topic): \Via\SSE {}

        /**
         * The Last-Event-ID the client sent when it (re)connected, or null.
         *
         * @return string|null
         */
        public function lastEventId(): ?string {}

        /**
         * Leaves a topic.
         *
         * @param string $topic
         * @return \Via\SSE
         */
        public function leave(string $topic): \Via\SSE {}

        /**
         * Runs $callback once when the stream ends — the client left (noticed without a
         * write), close(), or the server stopped. At once if it already ended.
         *
         * @param callable $callback
         * @return \Via\SSE
         */
        public function onClose(callable $callback): \Via\SSE {}

        /**
         * Sends an event: multi-line data becomes several `data:` lines; $event names it,
         * $id sets the client's Last-Event-ID, $retry (ms) its reconnection delay. Returns
         * false when the stream is closed, or the event was dropped by the backpressure policy.
         *
         * @throws \ValueError when $event or $id contains a line break (or $id a NUL byte)
         *
         * @param string $data
         * @param string|null $event
         * @param string|null $id
         * @param int|null $retry
         * @return bool
         */
        public function send(string $data, ?string $event = null, ?string $id = null, ?int $retry = null): bool {}

        /**
         * The topics joined.
         *
         * @return array
         */
        public function topics(): array {}

        /**
         * Sends an event as send() does, unless the client is behind: true when it is queued,
         * false when the stream is closed, null when the client's queue is full — then nothing
         * is queued and no backpressure policy applies (send() would wait, drop or close). For
         * a loop over many streams that must not wait for one: it sends to those keeping up
         * and leaves a slow one to a task of its own.
         *
         * @throws \ValueError when $event or $id contains a line break (or $id a NUL byte)
         *
         * @param string $data
         * @param string|null $event
         * @param string|null $id
         * @param int|null $retry
         * @return bool|null
         */
        public function trySend(string $data, ?string $event = null, ?string $id = null, ?int $retry = null): ?bool {}

        /**
         * Suspends until the stream ends (true) or $timeout seconds pass (false); null,
         * negative, INF or more than 365 days = no limit.
         *
         * @throws \ValueError for a NAN timeout
         * @throws \Via\Exception when waiting is impossible (inside a foreign Fiber)
         *
         * @param float|null $timeout
         * @return bool
         */
        public function waitClosed(?float $timeout = null): bool {}
    }

    /**
     * An HTTP/1.1 + HTTP/2 (h2c) server whose request handler runs in pooled fibers.
     */
    class Server {
        /**
         * Configures a server; nothing listens before start(). Options (all optional; ranges
         * and defaults in docs/configuration.md):
         * - limits and timeouts: max_header_size, max_headers, max_body_size, max_body_memory,
         *   header_timeout, body_timeout, keepalive_timeout, request_timeout (0 = none), write_timeout,
         *   max_connections, max_concurrent_streams, max_file_uploads, max_input_vars;
         * - the runtime: h2c, backlog, shutdown_timeout, io_threads, reactor ("auto",
         *   "threads", "php"), log_level, upload_dir;
         * - processes: workers, dispatch ("sticky", "connection"), affinity_cookie,
         *   max_requests, crash_limit, crash_window, broker_backlog, worker_sched_batch;
         * - TLS: tls_cert, tls_key; compression: compression, brotli_level, gzip_level,
         *   compression_min_size;
         * - event streams: sse_heartbeat, sse_queue_size, sse_backpressure,
         *   sse_backpressure_timeout; static files: static_dir, static_prefix,
         *   static_cache_control, static_brotli_cache_size;
         * - operations: health_path, metrics_path, metrics_listen, access_log,
         *   access_log_format, rate_limit, rate_limit_burst, trusted_proxies, error_pages.
         *
         * Times are seconds, each from a minimum (0.1 for the client timeouts) up to 31536000
         * (365 days).
         *
         * @throws \ValueError for an invalid port, an unknown option or a bad value
         *
         * @param string $host
         * @param int $port
         * @param array|null $options
         */
        public function __construct(string $host = '127.0.0.1', int $port = 3000, ?array $options = null) {}

        /**
         * The host it was configured with.
         *
         * @return string
         */
        public function host(): string {}

        /**
         * Whether this server is running (including while it drains).
         *
         * @return bool
         */
        public function isRunning(): bool {}

        /**
         * The pid of the process that started the server (the master; with one process,
         * this process).
         *
         * @return int
         */
        public function masterPid(): int {}

        /**
         * Sets the request handler: function (Via\Request $request, Via\Response $response).
         * It runs in its own task for every request.
         *
         * @param callable $handler
         * @return \Via\Server
         */
        public function onRequest(callable $handler): \Via\Server {}

        /**
         * Adds a hook run in a task after in-flight requests drained on stop:
         * function (Via\Server $server).
         *
         * @param callable $hook
         * @return \Via\Server
         */
        public function onShutdown(callable $hook): \Via\Server {}

        /**
         * Adds a hook run in a task once the server listens: function (Via\Server $server).
         *
         * @param callable $hook
         * @return \Via\Server
         */
        public function onStart(callable $hook): \Via\Server {}

        /**
         * Adds a hook run in a task in every worker process once it takes requests (in the
         * one process when workers = 1): function (Via\Server $server, int $workerId). Connect
         * brokers and start timers here.
         *
         * @param callable $hook
         * @return \Via\Server
         */
        public function onWorkerStart(callable $hook): \Via\Server {}

        /**
         * Adds a hook run in a task in every worker process when it stops (the server stops,
         * or the worker is replaced), after its in-flight requests finished:
         * function (Via\Server $server, int $workerId).
         *
         * @param callable $hook
         * @return \Via\Server
         */
        public function onWorkerStop(callable $hook): \Via\Server {}

        /**
         * The port it listens on (useful with port 0); 0 when not running.
         *
         * @return int
         */
        public function port(): int {}

        /**
         * Sends an event to every stream that joined $topic (Via\SSE::join()). The fan-out
         * runs on the I/O threads; returns how many streams the topic had.
         *
         * @throws \Via\Exception when the server is not running
         * @throws \ValueError when $event or $id contains a line break
         *
         * @param string $topic
         * @param string $data
         * @param string|null $event
         * @param string|null $id
         * @return int
         */
        public function publish(string $topic, string $data, ?string $event = null, ?string $id = null): int {}

        /**
         * Listens and serves until stop(), SIGTERM or SIGINT; then drains in-flight requests
         * (up to shutdown_timeout), runs the stop hooks and returns. With workers > 1 this
         * process becomes the master: it forks the workers, routes every request to one of
         * them and returns once they all stopped; the workers run the handlers and exit when
         * they are done (code after start() runs in the master only). SIGUSR1 replaces the
         * workers one at a time.
         *
         * @throws \Via\Exception when the address cannot be used, no handler is set, a server
         *         or loop is already running, workers cannot be forked, or the workers crashed
         *         in a loop
         *
         * @return void
         */
        public function start(): void {}

        /**
         * Counters: connections, requests, in-flight, timeouts, SSE, topics — summed over
         * every worker — and this process's tasks, fibers and timers. In a worker it asks the
         * master (the calling task waits for the answer).
         *
         * @throws \Via\Exception in a worker whose master does not answer
         *
         * @return array
         */
        public function stats(): array {}

        /**
         * Begins a graceful stop (as SIGTERM does). Returns false when this server is not
         * running.
         *
         * @return bool
         */
        public function stop(): bool {}

        /**
         * How many streams joined $topic, in every worker (0 when the server is not running).
         * In a worker it asks the master (the calling task waits for the answer).
         *
         * @throws \Via\Exception in a worker whose master does not answer
         *
         * @param string $topic
         * @return int
         */
        public function subscribers(string $topic): int {}

        /**
         * How many worker processes the server runs (the workers option).
         *
         * @return int
         */
        public function workerCount(): int {}

        /**
         * This process's worker number: 0 to workerCount() - 1 (0 with one process).
         *
         * @return int
         */
        public function workerId(): int {}
    }

    /**
     * A shared-memory table of fixed schema: every worker of a server sees the same rows.
     */
    class Table implements \Countable, \IteratorAggregate {
        /**
         * A float column (8 bytes).
         */
        public const FLOAT = 2;

        /**
         * An int column (8 bytes).
         */
        public const INT = 1;

        /**
         * A string column of at most the given number of bytes: [Table::STRING, 64].
         */
        public const STRING = 3;

        /**
         * A table of exactly $rows rows — every one insertable, whatever the keys — with
         * these columns: ['hits' => Table::INT, 'score' => Table::FLOAT, 'name' =>
         * [Table::STRING, 32]]. Keys are byte strings of 1 to $keyMaxLength bytes. The
         * memory is shared with every process forked later: create tables before
         * Server::start().
         *
         * @throws \ValueError for a bad row count, key length or column declaration
         * @throws \Via\Exception inside a running server or a worker, or when the memory
         *         cannot be mapped
         *
         * @param int $rows
         * @param array $columns
         * @param int $key_max_length
         */
        public function __construct(int $rows, array $columns, int $key_max_length = 64) {}

        /**
         * The rows declared at construction: exactly this many can be stored.
         *
         * @return int
         */
        public function capacity(): int {}

        /**
         * Removes every row.
         *
         * @return void
         */
        public function clear(): void {}

        /**
         * The schema: [column => ['type' => 'int'|'float'|'string', 'size' => bytes]].
         *
         * @return array
         */
        public function columns(): array {}

        /**
         * Sets $column of $key's row to $new if it currently equals $expected, atomically.
         * Returns false when it did not (or there is no such row).
         *
         * @throws \ValueError for an empty or too long key, an unknown column, a string longer
         *         than its column
         * @throws \TypeError for values of the wrong type
         *
         * @param string $key
         * @param string $column
         * @param mixed $expected
         * @param mixed $new
         * @return bool
         */
        public function compareAndSet(string $key, string $column, mixed $expected, mixed $new): bool {}

        /**
         * Rows in use.
         *
         * @return int
         */
        public function count(): int {}

        /**
         * Subtracts $by from a numeric column atomically and returns the new value (see incr()).
         *
         * @throws \ValueError for an empty or too long key, an unknown column
         * @throws \TypeError when the column is a string, or $by is a float for an int column
         * @throws \ArithmeticError when an int column would overflow
         * @throws \Via\CapacityException when the row is new and the table is full
         *
         * @param string $key
         * @param string $column
         * @param mixed $by
         * @return mixed
         */
        public function decr(string $key, string $column, mixed $by = null): mixed {}

        /**
         * Removes $key's row; false when there was none.
         *
         * @throws \ValueError for an empty or too long key
         *
         * @param string $key
         * @return bool
         */
        public function del(string $key): bool {}

        /**
         * Whether $key has a row.
         *
         * @throws \ValueError for an empty or too long key
         *
         * @param string $key
         * @return bool
         */
        public function exists(string $key): bool {}

        /**
         * The row of $key as [column => value], or one column's value; null when there is
         * no such row.
         *
         * @throws \ValueError for an empty or too long key, an unknown column
         *
         * @param string $key
         * @param string|null $column
         * @return mixed
         */
        public function get(string $key, ?string $column = null): mixed {}

        /**
         * An iterator over a snapshot of the rows (taken now): key => [column => value].
         *
         * @return \Via\TableIterator
         */
        public function getIterator(): \Via\TableIterator {}

        /**
         * Adds $by to a numeric column atomically (across processes) and returns the new
         * value; a missing row is created first. $by defaults to 1.
         *
         * @throws \ValueError for an empty or too long key, an unknown column
         * @throws \TypeError when the column is a string, or $by is a float for an int column
         * @throws \ArithmeticError when an int column would overflow
         * @throws \Via\CapacityException when the row is new and the table is full
         *
         * @param string $key
         * @param string $column
         * @param mixed $by
         * @return mixed
         */
        public function incr(string $key, string $column, mixed $by = null): mixed {}

        /**
         * Bytes of shared memory mapped for the table (pages become resident when written).
         *
         * @return int
         */
        public function memorySize(): int {}

        /**
         * Writes the given columns of $key's row, creating the row (other columns 0 or "")
         * when it does not exist; existing rows keep the columns not given.
         *
         * @throws \ValueError for an empty or too long key, an unknown column, a string longer
         *         than its column
         * @throws \TypeError for a value of the wrong type (ints are accepted for floats)
         * @throws \Via\CapacityException when the row is new and the table is full
         *
         * @param string $key
         * @param array $values
         * @return void
         */
        public function set(string $key, array $values): void {}
    }

    /**
     * The rows of a Via\Table as they were when iteration began.
     */
    class TableIterator implements \Iterator {
        public function __construct() {}

        /**
         * The current row as [column => value].
         *
         * @return mixed
         */
        public function current(): mixed {}

        /**
         * The current row's key (an int for a canonical decimal key, as PHP arrays do).
         *
         * @return mixed
         */
        public function key(): mixed {}

        /**
         * @return void
         */
        public function next(): void {}

        /**
         * @return void
         */
        public function rewind(): void {}

        /**
         * @return bool
         */
        public function valid(): bool {}
    }

    /**
     * Timers whose callbacks run as tasks on the via loop.
     */
    class Timer {
        public function __construct() {}

        /**
         * Runs $callback(...$args) once after $seconds (0 to 31536000, i.e. 365 days).
         * Returns the timer id.
         *
         * @throws \ValueError for a delay that is negative, NAN or longer than 365 days
         *
         * @param float $seconds
         * @param callable $callback
         * @param mixed $args
         * @return int
         */
        public static function after(float $seconds, callable $callback, mixed ...$args): int {}

        /**
         * Cancels a timer. Returns false when no such timer is pending.
         *
         * @param int $id
         * @return bool
         */
        public static function clear(int $id): bool {}

        /**
         * Cancels every timer. Returns how many were pending.
         *
         * @return int
         */
        public static function clearAll(): int {}

        /**
         * Runs $callback(...$args) every $seconds until cleared. Returns the timer id. The
         * interval is 0.001 (1 ms) to 31536000 (365 days): a shorter one would fire on every
         * turn of the loop and starve the other tasks and timers, so it is refused.
         *
         * @throws \ValueError for an interval under 0.001, over 365 days, or NAN
         *
         * @param float $seconds
         * @param callable $callback
         * @param mixed $args
         * @return int
         */
        public static function tick(float $seconds, callable $callback, mixed ...$args): int {}
    }

    /**
     * Runs $callback(...$args) in a new task (a pooled fiber); it starts as soon as the
     * current task yields. Outside a running loop the task runs when the script ends (or at
     * Via\run()). Returns the task id.
     *
     * @param callable $callback
     * @param mixed $args
     * @return int
     */
    function go(callable $callback, mixed ...$args): int {}

    /**
     * Runs $callback(...$args) as a task (if given) and drives the loop until no task and no
     * timer is left. For plain CLI scripts; a server runs its own loop.
     *
     * @throws \Via\Exception when called inside a task or a running server
     *
     * @param callable|null $callback
     * @param mixed $args
     * @return void
     */
    function run(?callable $callback = null, mixed ...$args): void {}

    /**
     * Suspends the current task for $seconds (0 to 31536000, i.e. 365 days) while others
     * run. In the main script (outside any task) it runs the loop for that long.
     * Via\sleep(0) yields to ready tasks.
     *
     * @throws \ValueError for a duration that is negative, NAN or longer than 365 days
     * @throws \Via\Exception inside a Fiber that via did not start
     *
     * @param float $seconds
     * @return void
     */
    function sleep(float $seconds): void {}

    /**
     * The id of the running task; 0 in the main script.
     *
     * @return int
     */
    function taskId(): int {}
}

namespace Via\Internal {
    /**
     * @internal Ends the task that `Via\Internal\fiber_main` ran ($result: true, what it
     * threw, or null when none ran yet) and returns the job of the task to run next in the
     * same fiber, or null when there is none. Only the runtime's fiber body may call it.
     *
     * @throws \Via\Exception when called from anywhere else
     *
     * @param mixed $result
     * @return mixed
     */
    function endTask(mixed $result): mixed {}
}
