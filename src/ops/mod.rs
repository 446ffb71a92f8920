//! Operating a server: health and metrics answered by Rust, the access log, the per-client
//! rate limit, trusted proxies, trace context and error pages.
//!
//! Owns: `OpsConfig` (the options), `Ops` (their running state in `ServerShared`) and the
//! two calls every request path makes — `admit` before the application sees a request
//! (which may answer it instead: health, metrics, 429) and `answered` once its response
//! starts (metrics, access log) — and the internal listener (`metrics_listen`).
//! Does not own: how an answer is written (each path: `h1`, `stream_conn`, `service`).
//!
//! Cost: with every feature off, `admit` is one branch and returns no ticket; metrics count
//! only when a metrics endpoint exists; trace ids are made only for the access log (PHP
//! makes them from the headers when asked).

pub mod access_log;
pub mod error_pages;
pub mod metrics;
pub mod proxy;
pub mod rate_limit;
pub mod trace;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Method, StatusCode, Uri, Version};

use crate::http::fields::Headers;
use crate::http::service::ServerShared;
use crate::http::HeaderList;
use crate::shutdown::Shutdown;
use access_log::AccessLog;
use error_pages::ErrorPages;
use metrics::HttpMetrics;
use proxy::TrustedProxies;
use rate_limit::RateLimiter;
use trace::Trace;

/// The options of this module (`Via\Server` options of the same names).
#[derive(Clone, Debug)]
pub struct OpsConfig {
    pub health_path: Option<String>,
    pub metrics_path: Option<String>,
    /// `host:port` of the internal listener that serves health and metrics alone.
    pub metrics_listen: Option<String>,
    pub access_log: Option<access_log::Target>,
    pub access_log_format: access_log::Format,
    /// Requests a second per client; 0: off.
    pub rate_limit: f64,
    /// Requests at once per client; `None`: the rate rounded up (at least 1).
    pub rate_limit_burst: Option<u32>,
    pub trusted_proxies: TrustedProxies,
    pub error_pages: Option<(std::path::PathBuf, ErrorPages)>,
    /// Not an option: the rate limit's buckets shared by the workers of `dispatch =
    /// connection`, mapped by the master before it forks (`None`: each process its own).
    pub shared_buckets: Option<rate_limit::SharedBuckets>,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            health_path: None,
            metrics_path: None,
            metrics_listen: None,
            access_log: None,
            access_log_format: access_log::Format::Combined,
            rate_limit: 0.0,
            rate_limit_burst: None,
            trusted_proxies: TrustedProxies::default(),
            error_pages: None,
            shared_buckets: None,
        }
    }
}

pub const DEFAULT_HEALTH_PATH: &str = "/health";
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

impl OpsConfig {
    /// The health and metrics paths of the internal listener.
    pub fn internal_paths(&self) -> (&str, &str) {
        (
            self.health_path.as_deref().unwrap_or(DEFAULT_HEALTH_PATH),
            self.metrics_path.as_deref().unwrap_or(DEFAULT_METRICS_PATH),
        )
    }

    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        // Both served: on the internal listener (with its defaults), or both set.
        let (health, metrics) = self.internal_paths();
        let both =
            self.metrics_listen.is_some() || (self.health_path.is_some() && self.metrics_path.is_some());
        if both && health == metrics {
            return Err(crate::config::ConfigError {
                option: "metrics_path".into(),
                message: format!("must differ from health_path, both are \"{health}\""),
            });
        }
        Ok(())
    }
}

/// 499, what the log and the metrics say of a request whose client left before its
/// answer started (nginx's code; not a status any answer is sent with).
pub fn client_closed_request() -> StatusCode {
    StatusCode::from_u16(499).expect("499 is in the range of status codes")
}

/// A request let through, with what `answered` needs; `None` when nothing is recorded.
///
/// Tickets are reused: `answered` keeps the box for the thread's next request (`SPARE`), and
/// `admit` fills it where it lies. A ticket is ~450 bytes with its record's head inline;
/// a new box per request was allocated, filled by a copy from the stack, and freed.
pub struct Ticket {
    /// The client's address (a trusted proxy's word, or the peer).
    pub client: SocketAddr,
    /// When it was admitted (`mono_nanos`).
    started: u64,
    method: usize,
    /// Whether `log` holds this request's record (the access log is on).
    logged: bool,
    log: Logged,
}

thread_local! {
    /// Boxes of answered tickets, for this thread's next requests. (Boxes, not tickets: the
    /// box is what a request carries, and it is kept whole.)
    #[allow(clippy::vec_box)]
    static SPARE: std::cell::RefCell<Vec<Box<Ticket>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Spare tickets kept per thread at most (one per request in flight is enough).
const SPARE_MAX: usize = 256;

impl Ticket {
    /// A spare ticket of this thread, or a new one; its fields are set by the caller.
    fn take() -> Box<Self> {
        SPARE.with_borrow_mut(Vec::pop).unwrap_or_else(|| {
            Box::new(Self {
                client: SocketAddr::from(([0, 0, 0, 0], 0)),
                started: 0,
                method: 0,
                logged: false,
                log: Logged { record: access_log::RecordHead::EMPTY, trace: Trace::default() },
            })
        })
    }

    /// Keeps the box for this thread's next request (a long record's buffer is freed).
    fn give_back(mut self: Box<Self>) {
        self.log.record.forget_long();
        self.log.trace.given_request_id = None;
        SPARE.with_borrow_mut(|spare| {
            if spare.len() < SPARE_MAX {
                spare.push(self);
            }
        });
    }
}

/// What the log keeps of an admitted request: its record's head, packed, and its trace.
/// The record holds copies: the head's own values share one buffer with the request the
/// PHP thread holds, and a reference to it would make both threads count on the same
/// cache line.
struct Logged {
    record: access_log::RecordHead,
    trace: Trace,
}

impl Logged {
    /// Packs the record of this request in place of the one before.
    fn fill(&mut self, client: SocketAddr, request: RequestLine<'_>, headers: &Headers) {
        let seen = Seen::of(headers);
        let Self { record, trace } = self;
        *trace = seen.trace.trace();
        let (method, uri, version) = request;
        let head = access_log::Head {
            client,
            method: method.as_str().as_bytes(),
            target: uri.path_and_query().map_or("/", |pq| pq.as_str()).as_bytes(),
            version,
            referer: seen.referer,
            user_agent: seen.user_agent,
            trace_id: [0; 16],
            span_id: [0; 8],
            sampled: false,
            request_id: None,
        }
        .with_trace(trace);
        record.fill(&head);
    }
}

/// The monotonic clock (`Instant`'s) in nanoseconds. A request's two readings are then a
/// subtraction apart, where `Instant` checked both `timespec`s and subtracted them field by
/// field (~90 instructions a request between `answered` and the log).
#[inline]
pub fn mono_nanos() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `clock_gettime` writes the given timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A request's method, target and version.
type RequestLine<'a> = (&'a Method, &'a Uri, Version);

/// The fields the log and the trace read, found in one pass over the head's fields: a
/// request has few, and four lookups by hash cost more than comparing each name.
#[derive(Default)]
struct Seen<'a> {
    referer: Option<&'a [u8]>,
    user_agent: Option<&'a [u8]>,
    trace: trace::TraceFields<'a>,
}

impl<'a> Seen<'a> {
    fn of(headers: &'a Headers) -> Self {
        let mut seen = Self::default();
        headers.each(|name, value| {
            if seen.trace.note(name, value) {
                return;
            }
            let slot = if name.eq_ignore_ascii_case(b"referer") {
                &mut seen.referer
            } else if name.eq_ignore_ascii_case(b"user-agent") {
                &mut seen.user_agent
            } else {
                return;
            };
            // The first of a repeated field, as `HeaderMap::get` gives it.
            slot.get_or_insert(value);
        });
        seen
    }
}

impl Ticket {
    /// The trace the access log records, for the application to see the same ids.
    pub fn trace(&self) -> Option<Trace> {
        self.logged.then(|| self.log.trace.clone())
    }
}

/// An answer the runtime gives itself instead of the application.
pub struct Own {
    pub status: StatusCode,
    pub headers: HeaderList,
    pub body: Bytes,
}

/// What `admit` decided.
pub enum Gate {
    /// To the application; the ticket goes back to `answered`.
    Pass(Option<Box<Ticket>>),
    /// Answered here (already counted and logged).
    Answer(Own),
}

pub struct Ops {
    /// Health and metrics paths on the public listener (none when `metrics_listen` is set).
    public_health: Option<String>,
    public_metrics: Option<String>,
    /// Counting (a metrics endpoint exists somewhere).
    pub metrics: Option<HttpMetrics>,
    access_log: Option<AccessLog>,
    rate_limit: Option<RateLimiter>,
    proxies: TrustedProxies,
    pub pages: ErrorPages,
    /// Anything to do per request.
    per_request: bool,
    stopping: Shutdown,
}

impl Ops {
    /// What a request whose reply was dropped unanswered is answered
    /// (`exchange::unanswered_status`).
    pub fn unanswered_status(&self) -> StatusCode {
        crate::http::exchange::unanswered_status(self.stopping.fired())
    }

    pub fn new(config: &OpsConfig, stopping: Shutdown) -> std::io::Result<Self> {
        let internal = config.metrics_listen.is_some();
        let (public_health, public_metrics) =
            if internal { (None, None) } else { (config.health_path.clone(), config.metrics_path.clone()) };
        let metrics = (internal || public_metrics.is_some()).then(HttpMetrics::default);
        let access_log = match &config.access_log {
            Some(target) => Some(AccessLog::start(target, config.access_log_format)?),
            None => None,
        };
        let rate_limit = (config.rate_limit > 0.0).then(|| {
            let burst = config.rate_limit_burst.unwrap_or(config.rate_limit.ceil().max(1.0) as u32);
            match &config.shared_buckets {
                Some(buckets) => RateLimiter::shared(config.rate_limit, burst, buckets.clone()),
                None => RateLimiter::new(config.rate_limit, burst),
            }
        });
        let per_request = public_health.is_some()
            || public_metrics.is_some()
            || metrics.is_some()
            || access_log.is_some()
            || rate_limit.is_some()
            || !config.trusted_proxies.is_empty();
        Ok(Self {
            public_health,
            public_metrics,
            metrics,
            access_log,
            rate_limit,
            proxies: config.trusted_proxies.clone(),
            pages: config.error_pages.as_ref().map(|(_, p)| p.clone()).unwrap_or_default(),
            per_request,
            stopping,
        })
    }

    /// Every feature off (tests, benchmarks).
    pub fn off() -> Self {
        let trigger = crate::shutdown::Trigger::new();
        let ops = Self::new(&OpsConfig::default(), trigger.subscribe()).expect("no access log to open");
        std::mem::forget(trigger); // kept unfired: the server is not draining
        ops
    }

    /// Whether `admit` has anything to do (paths skip it, and its arguments, when not).
    #[inline]
    pub fn active(&self) -> bool {
        self.per_request
    }

    /// Decides what happens to a request whose head was read.
    pub fn admit(
        &self,
        shared: &ServerShared,
        (method, uri, version, headers): (&Method, &Uri, Version, &Headers),
        remote: SocketAddr,
    ) -> Gate {
        if !self.per_request {
            return Gate::Pass(None);
        }
        let client = self.proxies.client(remote, headers);
        let mut ticket = Ticket::take();
        ticket.client = client;
        ticket.started = mono_nanos();
        ticket.method = metrics::method_index(method);
        ticket.logged = self.access_log.is_some();
        if ticket.logged {
            ticket.log.fill(client, (method, uri, version), headers);
        }
        let path = uri.path();
        let own = if self.public_health.as_deref() == Some(path) {
            Some(self.health(shared))
        } else if self.public_metrics.as_deref() == Some(path) {
            Some(self.metrics_answer(shared))
        } else if let Some(wait) = self.rate_limit.as_ref().and_then(|l| l.check(client.ip()).err()) {
            shared.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            Some(self.too_many(wait))
        } else {
            None
        };
        match own {
            Some(own) => {
                self.answered(Some(ticket), own.status, Some(own.body.len() as u64));
                Gate::Answer(own)
            }
            None => Gate::Pass(Some(ticket)),
        }
    }

    /// The response to a request let through has started: count it, log it.
    pub fn answered(&self, ticket: Option<Box<Ticket>>, status: StatusCode, bytes: Option<u64>) {
        let Some(t) = ticket else { return };
        let now = mono_nanos();
        let took = Duration::from_nanos(now.saturating_sub(t.started));
        if let Some(m) = &self.metrics {
            m.observe(t.method, status, took);
        }
        if let (Some(log), true) = (&self.access_log, t.logged) {
            log.log(&t.log.record, access_log::Answer { status, bytes, duration: took }, now);
        }
        t.give_back();
    }

    /// The client of a request let through left before its answer started: counted and
    /// logged as 499, nginx's "client closed request" (its handler may still run).
    pub fn client_left(&self, ticket: Box<Ticket>) {
        self.answered(Some(ticket), client_closed_request(), None);
    }

    fn too_many(&self, wait: Duration) -> Own {
        let (mut headers, body) = self.pages.answer(StatusCode::TOO_MANY_REQUESTS);
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        Own { status: StatusCode::TOO_MANY_REQUESTS, headers, body }
    }

    /// `{"status":"ok"}` (200), or 503 while draining or while no worker is ready.
    pub fn health(&self, shared: &ServerShared) -> Own {
        let load = shared.dispatcher.load();
        let state = if self.stopping.fired() {
            "draining"
        } else if load.workers_live == Some(0) {
            "starting"
        } else {
            "ok"
        };
        let status = if state == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
        let mut headers = HeaderList::with_capacity(2);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Own { status, headers, body: Bytes::from(format!("{{\"status\":\"{state}\"}}\n")) }
    }

    /// The Prometheus exposition.
    pub fn metrics_answer(&self, shared: &ServerShared) -> Own {
        let load = shared.dispatcher.load();
        let counters = match &load.totals {
            Some(totals) => totals.iter().cloned().collect(),
            None => shared.stats.snapshot().pairs().into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        };
        // Workers that serve their own connections count their requests themselves: their
        // counters come summed in the totals, added to this process's own.
        let summed =
            load.totals.as_ref().filter(|t| t.iter().any(|(k, _)| k.starts_with(metrics::PAIR_PREFIX)));
        let empty = HttpMetrics::default();
        let all = summed.map(|totals| {
            let all = HttpMetrics::default();
            if let Some(own) = &self.metrics {
                let mut pairs = Vec::new();
                own.put_pairs(&mut pairs);
                all.add_pairs(pairs.iter().map(|(k, n)| (std::str::from_utf8(k).unwrap_or(""), *n)));
            }
            all.add_pairs(totals.iter().map(|(k, n)| (k.as_str(), *n)));
            all
        });
        let src = metrics::Sources {
            http: all.as_ref().or(self.metrics.as_ref()).unwrap_or(&empty),
            counters,
            load,
            access_log: self
                .access_log
                .as_ref()
                .map(|l| (l.written.load(Ordering::Relaxed), l.dropped.load(Ordering::Relaxed))),
            rate_limit_buckets: self.rate_limit.as_ref().map(RateLimiter::len),
            draining: self.stopping.fired(),
        };
        let mut headers = HeaderList::with_capacity(2);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
        headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Own { status: StatusCode::OK, headers, body: Bytes::from(metrics::render(&src)) }
    }
}

/// The internal listener: health and metrics only, HTTP/1.1, a few connections at a time.
pub mod internal {
    use super::*;
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioIo, TokioTimer};

    /// Connections served at once; more wait in the backlog.
    const MAX_CONNECTIONS: usize = 64;

    pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<ServerShared>, mut shutdown: Shutdown) {
        let (health, metrics) = {
            let (h, m) = shared.config.ops.internal_paths();
            (h.to_string(), m.to_string())
        };
        let paths = Arc::new((health, metrics));
        let limit = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        loop {
            let permit = tokio::select! {
                biased;
                () = shutdown.recv() => return,
                p = Arc::clone(&limit).acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            let (stream, _) = tokio::select! {
                biased;
                () = shutdown.recv() => return,
                a = listener.accept() => match a {
                    Ok(a) => a,
                    Err(e) => {
                        crate::debug!("metrics listener: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            let shared = Arc::clone(&shared);
            let paths = Arc::clone(&paths);
            tokio::spawn(async move {
                let _permit = permit;
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let ops = &shared.ops;
                    let path = req.uri().path();
                    let own = if path == paths.0 {
                        ops.health(&shared)
                    } else if path == paths.1 {
                        ops.metrics_answer(&shared)
                    } else {
                        let (headers, body) = ops.pages.answer(StatusCode::NOT_FOUND);
                        Own { status: StatusCode::NOT_FOUND, headers, body }
                    };
                    let mut resp = http::Response::new(Full::new(own.body));
                    *resp.status_mut() = own.status;
                    *resp.headers_mut() = own.headers.into_map();
                    async move { Ok::<_, std::convert::Infallible>(resp) }
                });
                let mut b = hyper::server::conn::http1::Builder::new();
                b.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(10)).keep_alive(true);
                let conn = b.serve_connection(TokioIo::new(stream), svc);
                let _ = tokio::time::timeout(Duration::from_secs(300), conn).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn log_line(headers: &HeaderMap, target: &str) -> serde_json::Value {
        log_line_of(&headers.clone().into(), target)
    }

    fn log_line_of(headers: &Headers, target: &str) -> serde_json::Value {
        let uri: Uri = target.parse().unwrap();
        let mut ticket = Ticket::take();
        ticket.log.fill("192.0.2.1:9".parse().unwrap(), (&Method::GET, &uri, Version::HTTP_11), headers);
        let line = access_log::format_record(&ticket.log.record, access_log::Format::Json);
        serde_json::from_str(&line).unwrap()
    }

    /// A ticket's box serves the thread's next request: nothing of the last one stays.
    #[test]
    fn a_reused_ticket_keeps_nothing_of_its_last_request() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("req-7"));
        let long_agent = "a".repeat(5000); // past the inline buffer and the kept capacity
        h.insert(http::header::USER_AGENT, HeaderValue::from_str(&long_agent).unwrap());
        let (client, uri) = ("192.0.2.1:9".parse().unwrap(), "/a".parse::<Uri>().unwrap());
        let mut t = Ticket::take();
        t.log.fill(client, (&Method::GET, &uri, Version::HTTP_11), &h.into());
        let first = &*t as *const Ticket;
        t.give_back();
        let mut t = Ticket::take();
        assert_eq!(&*t as *const Ticket, first, "the same box");
        t.log.fill(client, (&Method::GET, &uri, Version::HTTP_11), &HeaderMap::new().into());
        let line = access_log::format_record(&t.log.record, access_log::Format::Json);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["user_agent"], serde_json::Value::Null);
        assert_eq!(v["request_id"], v["trace_id"]);
        assert_eq!(t.log.trace.given_request_id, None);
    }

    #[test]
    fn the_log_record_holds_the_head_fields_found_in_one_pass() {
        let mut h = HeaderMap::new();
        h.insert(http::header::HOST, HeaderValue::from_static("example.org"));
        h.insert(http::header::USER_AGENT, HeaderValue::from_static("curl/8"));
        h.insert("x-request-id", HeaderValue::from_static("req-7"));
        let v = log_line(&h, "/a?b=1");
        assert_eq!((v["uri"].as_str(), v["remote_addr"].as_str()), (Some("/a?b=1"), Some("192.0.2.1")));
        assert_eq!((v["referer"].as_str(), v["user_agent"].as_str()), (None, Some("curl/8")));
        assert_eq!(v["request_id"], "req-7");

        // A repeated field counts by its first value; a valid traceparent is continued.
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        h.append(http::header::REFERER, HeaderValue::from_static(""));
        h.append(http::header::REFERER, HeaderValue::from_static("http://second/"));
        h.insert("traceparent", HeaderValue::from_static(parent));
        let v = log_line(&h, "/");
        assert_eq!((v["referer"].as_str(), v["user_agent"].as_str()), (Some(""), Some("curl/8")));
        assert_eq!(v["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");

        // Two traceparents start a new trace, as `Trace::from_headers` does.
        h.append("traceparent", HeaderValue::from_static(parent));
        let v = log_line(&h, "/");
        assert_ne!(v["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(v["trace_id"].as_str().unwrap().len(), 32);

        // The same from a head as via's parser hands it over: names in any case.
        let raw = Headers::parsed_for_tests(
            "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/8\r\nREFERER: http://first/\r\nReferer: x\r\n\
             X-Request-Id: req-8\r\nTraceParent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
        );
        let v = log_line_of(&raw, "/");
        assert_eq!(
            (v["referer"].as_str(), v["user_agent"].as_str()),
            (Some("http://first/"), Some("curl/8"))
        );
        assert_eq!(
            (v["request_id"].as_str(), v["trace_id"].as_str()),
            (Some("req-8"), Some("4bf92f3577b34da6a3ce929d0e0e4736"))
        );
    }

    fn config(health: Option<&str>, metrics: Option<&str>, listen: bool) -> OpsConfig {
        OpsConfig {
            health_path: health.map(str::to_string),
            metrics_path: metrics.map(str::to_string),
            metrics_listen: listen.then(|| "127.0.0.1:0".to_string()),
            ..OpsConfig::default()
        }
    }

    #[test]
    fn health_and_metrics_paths_must_differ_only_where_both_are_served() {
        assert!(config(Some("/m"), Some("/m"), false).validate().is_err());
        assert!(config(Some("/metrics"), None, false).validate().is_ok(), "metrics are off");
        assert!(config(None, Some("/health"), false).validate().is_ok(), "health is off");
        assert!(config(Some("/metrics"), None, true).validate().is_err(), "the internal default");
        assert!(config(None, None, true).validate().is_ok());
    }
}
