//! Prometheus metrics: the counters of the request path, and the text exposition of
//! everything a server knows about itself.
//!
//! Owns: requests by method and status class, the latency histogram (time until the
//! response starts: for an event stream, its head), connections open by protocol, and the
//! rendering of those with `Stats`, the PHP thread's queue, workers, brokers and tables in
//! the Prometheus text format 0.0.4 (names as Prometheus' conventions ask: `_total`
//! counters, base units, `via_` prefix).
//! Cost: two atomic adds per request, and only when a metrics endpoint is configured.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};

/// Upper bounds of the latency buckets, in seconds.
pub const BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The names of `HttpMetrics::put_pairs` begin with this.
pub const PAIR_PREFIX: &str = "http:";

const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The protocols connections are counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http1 = 0,
    H2c = 1,
    Https1 = 2,
    Https2 = 3,
}

const PROTOCOLS: [(&str, &str); 4] = [("http1", "false"), ("h2", "false"), ("http1", "true"), ("h2", "true")];

pub fn method_index(m: &Method) -> usize {
    match *m {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::PATCH => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

#[derive(Default)]
pub struct HttpMetrics {
    requests: [[AtomicU64; 5]; 8],
    /// Per bucket (not cumulative); the last is +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
    /// Shared with the guards of the connections they count (an event stream's writer
    /// keeps its own after the connection's task is gone).
    connections: Arc<[AtomicU64; 4]>,
}

impl HttpMetrics {
    /// Counts one answered request.
    pub fn observe(&self, method: usize, status: StatusCode, took: Duration) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.requests[method.min(7)][class].fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        let bucket = BUCKETS.iter().position(|&b| secs <= b).unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Appends these counters as `(name, value)` pairs, for a worker's report to its master
    /// (`dispatch = connection`: each worker counts its own requests). Names begin with
    /// `PAIR_PREFIX`; zero counters are left out.
    pub fn put_pairs(&self, pairs: &mut Vec<(bytes::Bytes, u64)>) {
        let mut put = |name: String, n: u64| {
            if n > 0 {
                pairs.push((bytes::Bytes::from(name), n));
            }
        };
        for (m, row) in self.requests.iter().enumerate() {
            for (k, n) in row.iter().enumerate() {
                put(format!("{PAIR_PREFIX}req:{m}:{k}"), n.load(Ordering::Relaxed));
            }
        }
        for (i, n) in self.buckets.iter().enumerate() {
            put(format!("{PAIR_PREFIX}bucket:{i}"), n.load(Ordering::Relaxed));
        }
        put(format!("{PAIR_PREFIX}sum_us"), self.sum_micros.load(Ordering::Relaxed));
        for (i, n) in self.connections.iter().enumerate() {
            put(format!("{PAIR_PREFIX}conn:{i}"), n.load(Ordering::Relaxed));
        }
    }

    /// Adds pairs made by `put_pairs` (summed over workers by the master); other names and
    /// indexes out of range are ignored.
    pub fn add_pairs<'a>(&self, pairs: impl IntoIterator<Item = (&'a str, u64)>) {
        for (name, n) in pairs {
            let Some(rest) = name.strip_prefix(PAIR_PREFIX) else { continue };
            let mut parts = rest.split(':');
            let (kind, a, b) = (parts.next(), parts.next(), parts.next());
            let index = |p: Option<&str>| p.and_then(|p| p.parse::<usize>().ok());
            let counter = match (kind, index(a), index(b)) {
                (Some("req"), Some(m), Some(k)) => self.requests.get(m).and_then(|row| row.get(k)),
                (Some("bucket"), Some(i), None) => self.buckets.get(i),
                (Some("sum_us"), None, None) => Some(&self.sum_micros),
                (Some("conn"), Some(i), None) => self.connections.get(i),
                _ => None,
            };
            if let Some(c) = counter {
                c.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Counts a connection open until the guard drops.
    pub fn connection(&self, p: Protocol) -> ConnectionGuard {
        self.connections[p as usize].fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(Arc::clone(&self.connections), p as usize)
    }
}

pub struct ConnectionGuard(Arc<[AtomicU64; 4]>, usize);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0[self.1].fetch_sub(1, Ordering::Relaxed);
    }
}

/// The PHP side's load as the dispatcher sees it.
#[derive(Clone, Debug, Default)]
pub struct Load {
    /// Requests and events waiting for the PHP thread (with workers: requests routed to a
    /// worker and not yet answered).
    pub queue: u64,
    /// How long the oldest of them has waited (one process only).
    pub oldest_wait: Option<Duration>,
    /// Workers ready to serve (multi-worker servers).
    pub workers_live: Option<u64>,
    /// Counters summed over the server's processes, replacing the core's own `Stats`
    /// (multi-worker servers: the workers count SSE events).
    pub totals: Option<Vec<(String, u64)>>,
}

/// Everything one exposition shows.
pub struct Sources<'a> {
    pub http: &'a HttpMetrics,
    pub counters: HashMap<String, u64>,
    pub load: Load,
    pub access_log: Option<(u64, u64)>,
    pub rate_limit_buckets: Option<usize>,
    pub draining: bool,
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"");
                for c in v.chars() {
                    match c {
                        '\\' => self.0.push_str("\\\\"),
                        '"' => self.0.push_str("\\\""),
                        '\n' => self.0.push_str("\\n"),
                        c => self.0.push(c),
                    }
                }
                self.0.push('"');
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A family of one unlabelled sample.
    fn one(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// Counters of `Stats` shown as they are: (stats key, metric name, type, help).
const PLAIN: &[(&str, &str, &str, &str)] = &[
    ("connections_accepted", "via_connections_accepted_total", "counter", "Connections accepted."),
    (
        "connections_rejected",
        "via_connections_rejected_total",
        "counter",
        "Connections refused 503 at max_connections.",
    ),
    (
        "in_flight",
        "via_http_requests_in_flight",
        "gauge",
        "Requests handed to the application and not yet answered.",
    ),
    ("bad_requests", "via_http_bad_requests_total", "counter", "Requests refused as malformed (400)."),
    ("body_too_large", "via_http_body_too_large_total", "counter", "Requests refused 413."),
    ("body_memory", "via_http_body_memory_bytes", "gauge", "Bytes of request bodies held in memory."),
    (
        "body_memory_refusals",
        "via_http_body_memory_refusals_total",
        "counter",
        "Requests refused 503 because their body would have passed max_body_memory.",
    ),
    (
        "unanswered",
        "via_http_unanswered_total",
        "counter",
        "Requests the application dropped without answering (500).",
    ),
    (
        "client_aborts",
        "via_http_client_aborts_total",
        "counter",
        "Clients that left before their response was complete.",
    ),
    ("static_hits", "via_http_static_hits_total", "counter", "Requests answered from the static directory."),
    ("rate_limited", "via_http_rate_limited_total", "counter", "Requests refused 429 by the rate limit."),
    (
        "memory_refusals",
        "via_http_memory_refusals_total",
        "counter",
        "Requests refused 503 because PHP's memory was nearly used up (memory_limit).",
    ),
    ("sse_open", "via_sse_streams_open", "gauge", "Event streams open."),
    ("sse_opened", "via_sse_streams_opened_total", "counter", "Event streams opened."),
    ("sse_events", "via_sse_events_total", "counter", "Events sent to event streams."),
    (
        "sse_bytes",
        "via_sse_bytes_total",
        "counter",
        "Bytes of streamed responses (event streams) sent, after compression.",
    ),
    ("sse_heartbeats", "via_sse_heartbeats_total", "counter", "Heartbeat comments sent."),
    ("sse_dropped", "via_sse_dropped_total", "counter", "Events dropped by the backpressure policy."),
    (
        "sse_closed_slow",
        "via_sse_closed_slow_total",
        "counter",
        "Streams closed because their client did not keep up.",
    ),
    ("sse_waits", "via_sse_waits_total", "counter", "Sends that waited for a slow client."),
    ("sse_disconnects", "via_sse_disconnects_total", "counter", "Streams whose client went away."),
    ("topic_publishes", "via_sse_topic_publishes_total", "counter", "Topic publishes."),
    (
        "topic_deliveries",
        "via_sse_topic_deliveries_total",
        "counter",
        "Stream deliveries made by topic publishes.",
    ),
    (
        "broker_dropped",
        "via_workers_broker_dropped_total",
        "counter",
        "Broker messages dropped for a worker past broker_backlog.",
    ),
    ("forker_restarts", "via_forker_restarts_total", "counter", "Times the forker's spare took over."),
    ("worker_starts", "via_worker_starts_total", "counter", "Worker processes started."),
    (
        "worker_crashes",
        "via_worker_crashes_total",
        "counter",
        "Worker processes that ended without being asked.",
    ),
    (
        "worker_recycles",
        "via_worker_recycles_total",
        "counter",
        "Worker processes replaced by max_requests or SIGUSR1.",
    ),
    (
        "standby_takeovers",
        "via_io_standby_takeovers_total",
        "counter",
        "Times the standby thread drove the I/O while PHP code ran (reactor php).",
    ),
];

/// Renders the exposition.
pub fn render(src: &Sources<'_>) -> String {
    let mut o = Out(String::with_capacity(8192));
    let c = |k: &str| src.counters.get(k).copied().unwrap_or(0);

    o.one("via_up", "gauge", "1 while serving, 0 once the server drains.", u8::from(!src.draining));
    o.family("via_http_requests_total", "counter", "HTTP requests answered, by method and status class.");
    for (m, method) in METHODS.iter().enumerate() {
        for (k, class) in CLASSES.iter().enumerate() {
            let n = src.http.requests[m][k].load(Ordering::Relaxed);
            if n > 0 {
                o.sample("via_http_requests_total", &[("method", method), ("code", class)], n);
            }
        }
    }
    let name = "via_http_request_duration_seconds";
    o.family(name, "histogram", "Time from a request's head to the start of its response.");
    let mut cumulative = 0;
    for (i, b) in src.http.buckets.iter().enumerate() {
        cumulative += b.load(Ordering::Relaxed);
        let le = BUCKETS.get(i).map_or_else(|| "+Inf".to_string(), f64::to_string);
        o.sample(&format!("{name}_bucket"), &[("le", &le)], cumulative);
    }
    o.sample(&format!("{name}_sum"), &[], src.http.sum_micros.load(Ordering::Relaxed) as f64 / 1e6);
    o.sample(&format!("{name}_count"), &[], cumulative);

    o.family("via_connections_open", "gauge", "Connections open, by protocol.");
    for (i, (protocol, tls)) in PROTOCOLS.iter().enumerate() {
        let n = src.http.connections[i].load(Ordering::Relaxed);
        o.sample("via_connections_open", &[("protocol", protocol), ("tls", tls)], n);
    }
    o.family("via_http_timeouts_total", "counter", "Connections and requests cut by a timeout, by kind.");
    for kind in ["header", "idle", "body", "write", "request"] {
        let key = format!("{kind}_timeouts");
        o.sample("via_http_timeouts_total", &[("kind", kind)], c(&key));
    }
    o.family("via_http_compressed_total", "counter", "Responses sent compressed, by coding.");
    o.sample("via_http_compressed_total", &[("coding", "br")], c("compressed_br"));
    o.sample("via_http_compressed_total", &[("coding", "gzip")], c("compressed_gzip"));
    for (key, name, kind, help) in PLAIN {
        o.one(name, kind, help, c(key));
    }

    o.one("via_php_queue_depth", "gauge", "Requests and events waiting for PHP.", src.load.queue);
    if let Some(wait) = src.load.oldest_wait {
        o.one(
            "via_php_queue_wait_seconds",
            "gauge",
            "How long the oldest event waiting for the PHP thread has waited (its loop lag).",
            wait.as_secs_f64(),
        );
    }
    if let Some(live) = src.load.workers_live {
        o.one("via_workers_live", "gauge", "Worker processes ready to serve.", live);
    }
    if let Some((written, dropped)) = src.access_log {
        o.one("via_access_log_lines_total", "counter", "Access log lines written.", written);
        o.one(
            "via_access_log_dropped_total",
            "counter",
            "Access log lines dropped (the log did not keep up).",
            dropped,
        );
    }
    if let Some(n) = src.rate_limit_buckets {
        o.one("via_rate_limit_clients", "gauge", "Clients the rate limit holds a bucket for.", n);
    }

    let remotes = crate::broker::all();
    if !remotes.is_empty() {
        o.family("via_broker_connected", "gauge", "1 while connected to the shared broker.");
        for r in &remotes {
            o.sample("via_broker_connected", &[("broker", &r.name)], u8::from(r.connected));
        }
        o.family("via_broker_queued_bytes", "gauge", "Bytes waiting to be sent to the broker.");
        for r in &remotes {
            o.sample("via_broker_queued_bytes", &[("broker", &r.name)], r.queued_bytes);
        }
        type Field = fn(&crate::broker::RemoteReport) -> u64;
        let counters: [(&str, &str, Field); 6] = [
            ("via_broker_published_total", "Messages taken for the broker.", |r| r.published),
            ("via_broker_sent_total", "Messages written to the broker.", |r| r.sent),
            ("via_broker_delivered_total", "Messages from the broker delivered.", |r| r.delivered),
            ("via_broker_dropped_total", "Messages dropped: the outbox was full.", |r| r.dropped),
            ("via_broker_rejected_total", "Messages from the broker refused (malformed or unsigned).", |r| {
                r.rejected
            }),
            ("via_broker_reconnects_total", "Connections to the broker made after the first.", |r| {
                r.reconnects
            }),
        ];
        for (name, help, field) in counters {
            o.family(name, "counter", help);
            for r in &remotes {
                o.sample(name, &[("broker", &r.name)], field(r));
            }
        }
    }

    let tables = crate::table::usage();
    if !tables.is_empty() {
        type Field = fn(&crate::table::Usage) -> usize;
        let families: [(&str, &str, Field); 3] = [
            ("via_table_rows", "Rows stored in a Via\\Table (tables by creation order).", |u| u.rows),
            ("via_table_capacity_rows", "Rows a Via\\Table can hold.", |u| u.capacity),
            ("via_table_memory_bytes", "Shared memory a Via\\Table maps.", |u| u.memory),
        ];
        for (name, help, field) in families {
            o.family(name, "gauge", help);
            for (i, u) in tables.iter().enumerate() {
                o.sample(name, &[("table", &i.to_string())], field(u));
            }
        }
    }
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exposition of `http` and `counters` alone.
    fn rendered(http: &HttpMetrics, counters: HashMap<String, u64>) -> String {
        let src = Sources {
            http,
            counters,
            load: Load::default(),
            access_log: None,
            rate_limit_buckets: None,
            draining: false,
        };
        render(&src)
    }

    #[test]
    fn requests_and_latency_are_counted() {
        let m = HttpMetrics::default();
        m.observe(method_index(&Method::GET), StatusCode::OK, Duration::from_micros(300));
        m.observe(method_index(&Method::POST), StatusCode::NOT_FOUND, Duration::from_millis(20));
        m.observe(
            method_index(&Method::from_bytes(b"PURGE").unwrap()),
            StatusCode::OK,
            Duration::from_secs(60),
        );
        let _open = m.connection(Protocol::H2c);
        let text = rendered(&m, [("requests".to_string(), 3), ("header_timeouts".to_string(), 2)].into());
        for line in [
            "via_http_requests_total{method=\"GET\",code=\"2xx\"} 1",
            "via_http_requests_total{method=\"POST\",code=\"4xx\"} 1",
            "via_http_requests_total{method=\"other\",code=\"2xx\"} 1",
            "via_http_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "via_http_request_duration_seconds_bucket{le=\"0.025\"} 2",
            "via_http_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "via_http_request_duration_seconds_count 3",
            "via_connections_open{protocol=\"h2\",tls=\"false\"} 1",
            "via_http_timeouts_total{kind=\"header\"} 2",
            "via_up 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn the_counters_of_two_workers_add_up_through_their_pairs() {
        let (a, b) = (HttpMetrics::default(), HttpMetrics::default());
        a.observe(method_index(&Method::GET), StatusCode::OK, Duration::from_micros(300));
        b.observe(method_index(&Method::GET), StatusCode::OK, Duration::from_millis(20));
        b.observe(method_index(&Method::DELETE), StatusCode::BAD_GATEWAY, Duration::from_secs(60));
        let _open = (a.connection(Protocol::Http1), b.connection(Protocol::Https2));
        let mut pairs = Vec::new();
        a.put_pairs(&mut pairs);
        b.put_pairs(&mut pairs);
        assert!(pairs.iter().all(|(k, n)| k.starts_with(PAIR_PREFIX.as_bytes()) && *n > 0), "{pairs:?}");
        let names: Vec<String> = pairs.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).collect();
        let sum = HttpMetrics::default();
        // Names of no counter, and indexes past the end, are ignored.
        let bad =
            ["http:req:8:0", "http:req:0:5", "http:bucket:99", "http:conn", "requests", "http:sum_us:1"];
        sum.add_pairs(
            names.iter().map(String::as_str).zip(pairs.iter().map(|p| p.1)).chain(bad.map(|k| (k, 1))),
        );
        let text = rendered(&sum, HashMap::new());
        for line in [
            "via_http_requests_total{method=\"GET\",code=\"2xx\"} 2",
            "via_http_requests_total{method=\"DELETE\",code=\"5xx\"} 1",
            "via_http_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "via_http_request_duration_seconds_bucket{le=\"0.025\"} 2",
            "via_http_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "via_http_request_duration_seconds_sum 60.0203",
            "via_connections_open{protocol=\"http1\",tls=\"false\"} 1",
            "via_connections_open{protocol=\"h2\",tls=\"true\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
