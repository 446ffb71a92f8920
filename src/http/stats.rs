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
    /// 504: the application did not start a response within `request_timeout`.
    pub request_timeouts: AtomicU64,
    pub body_too_large: AtomicU64,
    pub bad_requests: AtomicU64,
    /// The application dropped a request without answering (500).
    pub unanswered: AtomicU64,
    /// Peers that left before their response was complete.
    pub client_aborts: AtomicU64,
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
    pub request_timeouts: u64,
    pub body_too_large: u64,
    pub bad_requests: u64,
    pub unanswered: u64,
    pub client_aborts: u64,
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
            request_timeouts: g(&self.request_timeouts),
            body_too_large: g(&self.body_too_large),
            bad_requests: g(&self.bad_requests),
            unanswered: g(&self.unanswered),
            client_aborts: g(&self.client_aborts),
        }
    }
}

impl StatsSnapshot {
    /// Name/value pairs in a stable order, for PHP arrays and logs.
    pub fn pairs(&self) -> [(&'static str, u64); 13] {
        [
            ("connections_accepted", self.connections_accepted),
            ("connections_active", self.connections_active),
            ("connections_rejected", self.connections_rejected),
            ("requests", self.requests),
            ("in_flight", self.in_flight),
            ("header_timeouts", self.header_timeouts),
            ("idle_timeouts", self.idle_timeouts),
            ("body_timeouts", self.body_timeouts),
            ("request_timeouts", self.request_timeouts),
            ("body_too_large", self.body_too_large),
            ("bad_requests", self.bad_requests),
            ("unanswered", self.unanswered),
            ("client_aborts", self.client_aborts),
        ]
    }
}
