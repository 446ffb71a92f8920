//! Counters of the HTTP core, updated lock-free from any Tokio thread.
//!
//! Owns: the numbers `Via\Server::stats()` reports for connections and requests.
//! Every dropped, rejected or timed-out thing is counted here: nothing fails silently.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default, Debug)]
pub struct Stats {
    pub connections_accepted: AtomicU64,
    pub connections_active: AtomicU64,
    /// Refused because `max_connections` was reached (answered 503).
    pub connections_rejected: AtomicU64,
    pub requests: AtomicU64,
    /// Dispatched to the application and not yet completely answered.
    pub in_flight: AtomicU64,
    pub header_timeouts: AtomicU64,
    pub idle_timeouts: AtomicU64,
    pub body_timeouts: AtomicU64,
    /// Connections cut because the client accepted no bytes for `write_timeout`.
    pub write_timeouts: AtomicU64,
    /// 504: the application did not start a response within `request_timeout`.
    pub request_timeouts: AtomicU64,
    pub body_too_large: AtomicU64,
    pub bad_requests: AtomicU64,
    /// The application dropped a request without answering (500).
    pub unanswered: AtomicU64,
    /// Peers that left before their response was complete.
    pub client_aborts: AtomicU64,
    /// Responses sent compressed, by coding.
    pub compressed_br: AtomicU64,
    pub compressed_gzip: AtomicU64,
    /// Event streams opened and now open.
    pub sse_opened: AtomicU64,
    pub sse_open: AtomicU64,
    pub sse_events: AtomicU64,
    pub sse_heartbeats: AtomicU64,
    /// Events dropped because a stream's queue was full (policy "drop", topic publishes).
    pub sse_dropped: AtomicU64,
    /// Streams closed because their client did not keep up (policy "close", or "wait"
    /// past its timeout).
    pub sse_closed_slow: AtomicU64,
    /// Senders that waited for a slow client's queue to drain.
    pub sse_waits: AtomicU64,
    /// Streams whose client went away (TCP close, RST_STREAM).
    pub sse_disconnects: AtomicU64,
    /// Topic publishes and the stream deliveries they made.
    pub topic_publishes: AtomicU64,
    pub topic_deliveries: AtomicU64,
    /// Requests answered from the static directory (PHP not entered).
    pub static_hits: AtomicU64,
    /// Broker messages dropped because a worker had `broker_backlog` bytes of
    /// them not yet taken (a stopped or busy worker).
    pub broker_dropped: AtomicU64,
    /// Times the forker died and its spare took over (multi-worker servers).
    pub forker_restarts: AtomicU64,
}

/// A plain copy of the counters.
#[derive(Debug, Clone, Default)]
pub struct StatsSnapshot {
    pub connections_accepted: u64,
    pub connections_active: u64,
    pub connections_rejected: u64,
    pub requests: u64,
    pub in_flight: u64,
    pub header_timeouts: u64,
    pub idle_timeouts: u64,
    pub body_timeouts: u64,
    pub write_timeouts: u64,
    pub request_timeouts: u64,
    pub body_too_large: u64,
    pub bad_requests: u64,
    pub unanswered: u64,
    pub client_aborts: u64,
    pub compressed_br: u64,
    pub compressed_gzip: u64,
    pub sse_opened: u64,
    pub sse_open: u64,
    pub sse_events: u64,
    pub sse_heartbeats: u64,
    pub sse_dropped: u64,
    pub sse_closed_slow: u64,
    pub sse_waits: u64,
    pub sse_disconnects: u64,
    pub topic_publishes: u64,
    pub topic_deliveries: u64,
    pub static_hits: u64,
    pub broker_dropped: u64,
    pub forker_restarts: u64,
}

impl Stats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            connections_accepted: g(&self.connections_accepted),
            connections_active: g(&self.connections_active),
            connections_rejected: g(&self.connections_rejected),
            requests: g(&self.requests),
            in_flight: g(&self.in_flight),
            header_timeouts: g(&self.header_timeouts),
            idle_timeouts: g(&self.idle_timeouts),
            body_timeouts: g(&self.body_timeouts),
            write_timeouts: g(&self.write_timeouts),
            request_timeouts: g(&self.request_timeouts),
            body_too_large: g(&self.body_too_large),
            bad_requests: g(&self.bad_requests),
            unanswered: g(&self.unanswered),
            client_aborts: g(&self.client_aborts),
            compressed_br: g(&self.compressed_br),
            compressed_gzip: g(&self.compressed_gzip),
            sse_opened: g(&self.sse_opened),
            sse_open: g(&self.sse_open),
            sse_events: g(&self.sse_events),
            sse_heartbeats: g(&self.sse_heartbeats),
            sse_dropped: g(&self.sse_dropped),
            sse_closed_slow: g(&self.sse_closed_slow),
            sse_waits: g(&self.sse_waits),
            sse_disconnects: g(&self.sse_disconnects),
            topic_publishes: g(&self.topic_publishes),
            topic_deliveries: g(&self.topic_deliveries),
            static_hits: g(&self.static_hits),
            broker_dropped: g(&self.broker_dropped),
            forker_restarts: g(&self.forker_restarts),
        }
    }
}

impl StatsSnapshot {
    /// Name/value pairs in a stable order, for PHP arrays and logs.
    pub fn pairs(&self) -> [(&'static str, u64); 29] {
        [
            ("connections_accepted", self.connections_accepted),
            ("connections_active", self.connections_active),
            ("connections_rejected", self.connections_rejected),
            ("requests", self.requests),
            ("in_flight", self.in_flight),
            ("header_timeouts", self.header_timeouts),
            ("idle_timeouts", self.idle_timeouts),
            ("body_timeouts", self.body_timeouts),
            ("write_timeouts", self.write_timeouts),
            ("request_timeouts", self.request_timeouts),
            ("body_too_large", self.body_too_large),
            ("bad_requests", self.bad_requests),
            ("unanswered", self.unanswered),
            ("client_aborts", self.client_aborts),
            ("compressed_br", self.compressed_br),
            ("compressed_gzip", self.compressed_gzip),
            ("sse_opened", self.sse_opened),
            ("sse_open", self.sse_open),
            ("sse_events", self.sse_events),
            ("sse_heartbeats", self.sse_heartbeats),
            ("sse_dropped", self.sse_dropped),
            ("sse_closed_slow", self.sse_closed_slow),
            ("sse_waits", self.sse_waits),
            ("sse_disconnects", self.sse_disconnects),
            ("topic_publishes", self.topic_publishes),
            ("topic_deliveries", self.topic_deliveries),
            ("static_hits", self.static_hits),
            ("broker_dropped", self.broker_dropped),
            ("forker_restarts", self.forker_restarts),
        ]
    }
}
