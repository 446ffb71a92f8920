//! Counters of the HTTP core, updated lock-free from any Tokio thread.
//!
//! Owns: the numbers `Via\Server::stats()` reports for connections and requests.
//! Every dropped, rejected or timed-out thing is counted here: nothing fails silently.

use std::sync::atomic::{AtomicU64, Ordering};

/// Declares the counters once: `Stats` (atomics), `StatsSnapshot` (plain copies, same
/// names), `snapshot()` and `pairs()` (the order `Via\Server::stats()` reports).
macro_rules! counters {
    ($($(#[doc = $doc:literal])* $name:ident),* $(,)?) => {
        #[derive(Default, Debug)]
        pub struct Stats {
            $($(#[doc = $doc])* pub $name: AtomicU64,)*
        }

        /// A plain copy of the counters.
        #[derive(Debug, Clone, Default)]
        pub struct StatsSnapshot {
            $(pub $name: u64,)*
        }

        impl Stats {
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }

        impl StatsSnapshot {
            /// Name/value pairs in a stable order, for PHP arrays and logs.
            pub fn pairs(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name),)*]
            }
        }
    };
}

counters! {
    connections_accepted,
    connections_active,
    /// Refused because `max_connections` was reached (answered 503).
    connections_rejected,
    requests,
    /// Dispatched to the application and not yet completely answered.
    in_flight,
    header_timeouts,
    idle_timeouts,
    body_timeouts,
    /// Connections, streamed responses (`Response::write()`) and event streams with a full
    /// queue, cut because the client took no bytes for `write_timeout`.
    write_timeouts,
    /// 504: the application did not start a response within `request_timeout`.
    request_timeouts,
    body_too_large,
    /// Bytes of request bodies held in memory now (`max_body_memory` bounds them).
    body_memory,
    /// Requests refused 503 because their body would have passed `max_body_memory`.
    body_memory_refusals,
    bad_requests,
    /// The application dropped a request without answering (500).
    unanswered,
    /// Peers that left before their response was complete.
    client_aborts,
    /// Responses sent compressed, by coding.
    compressed_br,
    compressed_gzip,
    /// Event streams opened and now open.
    sse_opened,
    sse_open,
    sse_events,
    sse_heartbeats,
    /// Events dropped because a stream's queue was full (policy "drop", topic publishes).
    sse_dropped,
    /// Streams closed because their client did not keep up (policy "close", or "wait"
    /// past its timeout).
    sse_closed_slow,
    /// Senders that waited for a slow client's queue to drain.
    sse_waits,
    /// Streams whose client went away (TCP close, RST_STREAM).
    sse_disconnects,
    /// Topic publishes and the stream deliveries they made.
    topic_publishes,
    topic_deliveries,
    /// Requests answered from the static directory (PHP not entered).
    static_hits,
    /// Broker messages dropped because a worker had `broker_backlog` bytes of
    /// them not yet taken (a stopped or busy worker).
    broker_dropped,
    /// Times the forker died and its spare took over (multi-worker servers).
    forker_restarts,
    /// Bytes of streamed bodies (event streams, mostly) handed to the connection, after
    /// compression.
    sse_bytes,
    /// Requests refused 429 by the per-client rate limit.
    rate_limited,
    /// Requests refused 503 because PHP's memory was nearly used up (`memory_limit`).
    memory_refusals,
    /// Worker processes started, crashed (ended without being asked) and recycled
    /// (`max_requests`, SIGUSR1) — multi-worker servers.
    worker_starts,
    worker_crashes,
    worker_recycles,
    /// Times the standby thread took over the I/O while PHP code ran (`reactor = php`).
    standby_takeovers,
}
