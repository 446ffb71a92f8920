//! Server configuration: every limit and timeout of the HTTP core, with its default.
//!
//! Owns: the `ServerConfig` value the core is built from, its defaults and its validation.
//! Does not own: reading the configuration from PHP (that is `php::server`, which turns a
//! PHP options array into `set_option` calls so that the names and the checks live here).
//!
//! Invariant: a `ServerConfig` that passed `validate()` is internally consistent; the core
//! never re-checks it.

use std::fmt;
use std::time::Duration;

/// Upper bound of one request's header section (request line + headers), in bytes.
/// nginx uses 8 KiB per line and 32 KiB in all; browsers with many cookies reach ~10 KiB.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 16 * 1024;
/// hyper's floor for its read buffer; a smaller header limit cannot be enforced exactly.
pub const MIN_MAX_HEADER_SIZE: usize = 8 * 1024;
/// Maximum number of header fields in one request (hyper's default is 100).
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Largest accepted request body; PHP's own `post_max_size` default is 8 MiB.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 8 * 1024 * 1024;
/// Least room for request bodies in memory by default (`max_body_memory`); the default is
/// this or four bodies of `max_body_size`, whichever is more.
pub const DEFAULT_MAX_BODY_MEMORY: u64 = 256 * 1024 * 1024;
/// Time a client has to send a complete header section once it started one.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to send the whole body once the headers arrived.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// An idle keep-alive connection (no request in flight) is closed after this long.
pub const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// A client that accepts no bytes for this long is disconnected (it stopped reading).
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// PHP must have started a response within this long, else the client gets 504.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections beyond this number are answered 503 and closed.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Graceful drain: how long in-flight requests may take after SIGTERM / stop().
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Listen backlog. The kernel caps it at `net.core.somaxconn`.
pub const DEFAULT_BACKLOG: u32 = 4096;
/// HTTP/2 streams a client may open at once on one connection.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 256;
/// Multipart: at most this many files per request (PHP's `max_file_uploads`).
pub const DEFAULT_MAX_FILE_UPLOADS: usize = 20;
/// Form fields (query, urlencoded, multipart) per request (PHP's `max_input_vars`).
pub const DEFAULT_MAX_INPUT_VARS: usize = 1000;

/// Verbosity of the runtime's own log lines (written to stderr).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Off = 0,
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

impl LogLevel {
    pub const NAMES: &'static str = "off, error, warn, info, debug";

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "off" | "none" => Some(Self::Off),
            "error" => Some(Self::Error),
            "warn" | "warning" => Some(Self::Warn),
            "info" => Some(Self::Info),
            "debug" => Some(Self::Debug),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
        }
    }

    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Off,
            1 => Self::Error,
            2 => Self::Warn,
            3 => Self::Info,
            _ => Self::Debug,
        }
    }
}

/// Limits that protect the server from clients: sizes and timeouts.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_header_size: usize,
    pub max_headers: usize,
    pub max_body_size: u64,
    /// Request bodies held in memory by this process at once, in bytes; `None`: the
    /// default, see `body_memory`.
    pub max_body_memory: Option<u64>,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub write_timeout: Duration,
    /// `None` = PHP may take as long as it wants.
    pub request_timeout: Option<Duration>,
    pub max_connections: usize,
    pub max_concurrent_streams: u32,
    pub max_file_uploads: usize,
    pub max_input_vars: usize,
}

impl Limits {
    /// The bound on request bodies held in memory at once: `max_body_memory`, or by
    /// default `DEFAULT_MAX_BODY_MEMORY` or four bodies of `max_body_size`, whichever is
    /// more.
    pub fn body_memory(&self) -> u64 {
        self.max_body_memory
            .unwrap_or_else(|| DEFAULT_MAX_BODY_MEMORY.max(self.max_body_size.saturating_mul(4)))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            max_body_memory: None,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            max_file_uploads: DEFAULT_MAX_FILE_UPLOADS,
            max_input_vars: DEFAULT_MAX_INPUT_VARS,
        }
    }
}

/// Everything the HTTP core needs to listen and serve.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub limits: Limits,
    /// Accept HTTP/2 with prior knowledge (h2c) on the plaintext port.
    pub h2c: bool,
    /// Serve plaintext HTTP/1.1 with hyper alone, not with `http::h1` first (which hands
    /// hyper every request it does not serve itself). For comparison and as a fallback.
    pub hyper_http1: bool,
    /// Whether a waiting event stream writer lends its socket to pushes
    /// (`http::stream::StreamShared::arm`). `None`: it does (decisions 0027, 0029). Not a
    /// PHP option: for tests, which turn it off to test the writer's own path.
    pub lend_stream_sockets: Option<bool>,
    pub backlog: u32,
    pub shutdown_timeout: Duration,
    /// Tokio I/O threads. 0 = chosen from the number of CPUs.
    pub io_threads: usize,
    /// Which thread drives the I/O: threads of its own (the default), or the PHP thread
    /// while it has nothing else to do.
    pub reactor: Reactor,
    pub log_level: LogLevel,
    /// Directory for spooled uploads; `None` = the system temp dir.
    pub upload_dir: Option<std::path::PathBuf>,
    pub compression: crate::http::encoding::CompressionConfig,
    pub sse: SseConfig,
    /// PEM certificate chain and private key: TLS with ALPN h2 / http/1.1.
    pub tls_cert: Option<std::path::PathBuf>,
    pub tls_key: Option<std::path::PathBuf>,
    pub static_files: Option<StaticConfig>,
    pub workers: WorkersConfig,
    /// Health, metrics, access log, rate limit, trusted proxies, error pages.
    pub ops: crate::ops::OpsConfig,
}

/// Processes: how many workers, how requests stick to them, how they are recycled.
#[derive(Clone, Debug)]
pub struct WorkersConfig {
    /// Worker processes; 1 = everything in the process that called start().
    pub count: u32,
    /// Name of the cookie that pins a browser to a worker.
    pub affinity_cookie: String,
    /// Replace a worker after it served about this many requests (0 = never); each
    /// worker picks its limit with up to 10 % jitter so they do not recycle together.
    pub max_requests: u64,
    /// This many worker crashes within `crash_window` stop the server.
    pub crash_limit: u32,
    pub crash_window: Duration,
    /// Bytes of broker messages one worker may have queued and not yet taken, in the
    /// master and again in the worker; past it its messages are dropped and counted.
    pub broker_backlog: usize,
    /// A worker's threads run as `SCHED_BATCH` (decision 0020).
    pub sched_batch: bool,
    /// Who takes a request to a worker (decision 0024).
    pub dispatch: Dispatch,
}

/// How the requests of a multi-worker server reach the workers (decision 0024).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// The master serves every connection and routes each request by the affinity
    /// cookie: a browser sticks to its worker whatever connection it uses.
    Sticky,
    /// Each worker accepts connections on the shared listener and serves them itself, as
    /// one process does; the master only supervises and relays (topics, brokers,
    /// counters). A connection sticks to a worker, a browser does not.
    Connection,
}

pub const DEFAULT_BROKER_BACKLOG: usize = 16 << 20;
pub const DEFAULT_AFFINITY_COOKIE: &str = "via_worker";
pub const DEFAULT_CRASH_LIMIT: u32 = 10;
pub const DEFAULT_CRASH_WINDOW: Duration = Duration::from_secs(30);

impl Default for WorkersConfig {
    fn default() -> Self {
        Self {
            count: 1,
            affinity_cookie: DEFAULT_AFFINITY_COOKIE.into(),
            max_requests: 0,
            crash_limit: DEFAULT_CRASH_LIMIT,
            crash_window: DEFAULT_CRASH_WINDOW,
            broker_backlog: DEFAULT_BROKER_BACKLOG,
            sched_batch: true,
            dispatch: Dispatch::Sticky,
        }
    }
}

impl WorkersConfig {
    /// Whether the workers accept and serve connections themselves.
    pub fn serve_connections(&self) -> bool {
        self.count > 1 && self.dispatch == Dispatch::Connection
    }
}

/// Who runs the I/O runtime (docs/decisions/0013, 0018).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reactor {
    /// `Php` when the process may run on one CPU only (its affinity or its cgroup's quota)
    /// and `io_threads` is not given; `Threads` otherwise.
    Auto,
    /// `io_threads` threads of its own: timeouts, heartbeats, static files, compression
    /// and writing go on while PHP code runs, on other CPUs.
    Threads,
    /// The PHP thread, whenever its loop waits: no hand-over between threads, no wake-ups
    /// across them. A standby thread drives the I/O while PHP code runs longer than
    /// `STANDBY_TICK` (`http::driven`). With `workers` > 1 the master keeps its I/O threads
    /// (clients are served there) and each worker's PHP thread runs its link to the
    /// master.
    Php,
}

/// What `send()` does when a stream's queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backpressure {
    /// Suspend the sending task until the queue drains; close the stream after the timeout.
    Wait,
    /// Drop the event (counted) and report false.
    Drop,
    /// Close the stream (counted): a client this slow reconnects and resynchronises.
    Close,
}

/// Defaults of event streams.
#[derive(Clone, Debug)]
pub struct SseConfig {
    /// A comment is sent after this long without an event; `None` = never.
    pub heartbeat: Option<Duration>,
    /// Bytes queued for one slow client before the backpressure policy applies.
    pub queue_size: usize,
    pub backpressure: Backpressure,
    pub backpressure_timeout: Duration,
}

/// Heartbeat default: well under the 30–60 s idle timeouts of common proxies.
pub const DEFAULT_SSE_HEARTBEAT: Duration = Duration::from_secs(15);
/// Per-stream queue: a few hundred typical Datastar patches.
pub const DEFAULT_SSE_QUEUE_SIZE: usize = 1024 * 1024;
pub const DEFAULT_SSE_BACKPRESSURE_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            heartbeat: Some(DEFAULT_SSE_HEARTBEAT),
            queue_size: DEFAULT_SSE_QUEUE_SIZE,
            backpressure: Backpressure::Wait,
            backpressure_timeout: DEFAULT_SSE_BACKPRESSURE_TIMEOUT,
        }
    }
}

/// Files served by Rust from a directory mapped to a URL prefix.
#[derive(Clone, Debug)]
pub struct StaticConfig {
    /// Canonical path of the directory.
    pub root: std::path::PathBuf,
    /// URL prefix, starting and ending with "/".
    pub prefix: String,
    pub cache_control: String,
    /// Bytes of Brotli-11 variants kept in memory.
    pub brotli_cache_size: usize,
}

pub const DEFAULT_STATIC_CACHE_CONTROL: &str = "public, max-age=3600, must-revalidate";
pub const DEFAULT_STATIC_BROTLI_CACHE: usize = 64 * 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 3000,
            limits: Limits::default(),
            h2c: true,
            hyper_http1: false,
            lend_stream_sockets: None,
            backlog: DEFAULT_BACKLOG,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            io_threads: 0,
            reactor: Reactor::Auto,
            log_level: LogLevel::Info,
            upload_dir: None,
            compression: Default::default(),
            sse: SseConfig::default(),
            tls_cert: None,
            tls_key: None,
            static_files: None,
            workers: WorkersConfig::default(),
            ops: crate::ops::OpsConfig::default(),
        }
    }
}

/// A configuration value that cannot be used, with the option's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub option: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "option \"{}\": {}", self.option, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A value given for an option, already converted from whatever the caller had.
#[derive(Debug, Clone)]
pub enum OptionValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl OptionValue {
    fn type_name(&self) -> &'static str {
        match self {
            Self::Int(_) => "int",
            Self::Float(_) => "float",
            Self::Bool(_) => "bool",
            Self::Str(_) => "string",
        }
    }
}

fn err(option: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { option: option.into(), message: message.into() }
}

fn want_int(option: &str, v: &OptionValue, min: i64, max: i64) -> Result<i64, ConfigError> {
    let n = match v {
        OptionValue::Int(n) => *n,
        other => return Err(err(option, format!("must be an int, {} given", other.type_name()))),
    };
    if n < min || n > max {
        return Err(err(option, format!("must be between {min} and {max}, {n} given")));
    }
    Ok(n)
}

/// Longest duration an option (or a PHP argument) may give, in seconds: 365 days.
pub const MAX_DURATION_SECS: f64 = 31_536_000.0;
/// Shortest client-facing network timeout (`header_timeout`, `body_timeout`,
/// `keepalive_timeout`, `write_timeout`): below a network round trip, a request whose
/// bytes do not all arrive in the first read would be dropped.
pub const MIN_NETWORK_TIMEOUT: Duration = Duration::from_millis(100);
/// Shortest `request_timeout`: PHP needs at least this to start any response.
pub const MIN_REQUEST_TIMEOUT: Duration = Duration::from_millis(10);
/// Shortest `sse_heartbeat`: more often would fill every stream with pings.
pub const MIN_SSE_HEARTBEAT: Duration = Duration::from_millis(100);
/// Shortest `sse_backpressure_timeout` and non-zero `shutdown_timeout`: one tick of the
/// loop's timers.
pub const MIN_SHORT_TIMEOUT: Duration = Duration::from_millis(1);
/// Shortest `crash_window`: a crash-loop check over less than a second counts nothing.
pub const MIN_CRASH_WINDOW: Duration = Duration::from_secs(1);

/// Seconds for messages: `0.1`, `31536000`, `1e-12`, `1e300`, `NAN`, `INF`.
pub fn format_seconds(secs: f64) -> String {
    if secs.is_nan() {
        "NAN".into()
    } else if secs.is_infinite() {
        if secs > 0.0 { "INF" } else { "-INF" }.into()
    } else if secs != 0.0 && !(1e-4..1e15).contains(&secs.abs()) {
        format!("{secs:e}")
    } else {
        format!("{secs}")
    }
}

/// Whether `0` turns an option off or is out of range like any other too-short value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Zero {
    Off,
    Refused,
}

/// Seconds as int or float, between `min` and `MAX_DURATION_SECS`; with `Zero::Off` also 0.
fn want_seconds(option: &str, v: &OptionValue, min: Duration, zero: Zero) -> Result<Duration, ConfigError> {
    let secs = match v {
        OptionValue::Int(n) => *n as f64,
        OptionValue::Float(f) => *f,
        other => {
            return Err(err(option, format!("must be a number of seconds, {} given", other.type_name())))
        }
    };
    if zero == Zero::Off && secs == 0.0 {
        return Ok(Duration::ZERO);
    }
    let min_secs = min.as_secs_f64();
    if !(min_secs..=MAX_DURATION_SECS).contains(&secs) {
        let off = if zero == Zero::Off { "0 (off) or " } else { "" };
        return Err(err(
            option,
            format!(
                "must be {off}between {} and {} seconds, {} given",
                format_seconds(min_secs),
                format_seconds(MAX_DURATION_SECS),
                format_seconds(secs)
            ),
        ));
    }
    // In range, so finite and far below Duration's limit.
    Duration::try_from_secs_f64(secs).map_err(|e| err(option, e.to_string()))
}

fn want_bool(option: &str, v: &OptionValue) -> Result<bool, ConfigError> {
    match v {
        OptionValue::Bool(b) => Ok(*b),
        other => Err(err(option, format!("must be a bool, {} given", other.type_name()))),
    }
}

fn want_str<'a>(option: &str, v: &'a OptionValue) -> Result<&'a str, ConfigError> {
    match v {
        OptionValue::Str(s) => Ok(s),
        other => Err(err(option, format!("must be a string, {} given", other.type_name()))),
    }
}

/// A file system path: a string without NUL bytes (the OS cannot take one, and it would cut
/// the path short).
fn want_path(option: &str, v: &OptionValue) -> Result<std::path::PathBuf, ConfigError> {
    let s = want_str(option, v)?;
    if s.contains('\0') {
        return Err(err(option, "must not contain any null bytes"));
    }
    Ok(std::path::PathBuf::from(s))
}

/// How one option's value is checked, and where it is stored.
enum Setter {
    /// An int in `min..=max`.
    Int(i64, i64, fn(&mut ServerConfig, i64)),
    /// Seconds (int or float) from `min` up to a year; see `Zero`.
    Seconds(Duration, Zero, fn(&mut ServerConfig, Duration)),
    Bool(fn(&mut ServerConfig, bool)),
    /// A path without NUL bytes.
    Path(fn(&mut ServerConfig, std::path::PathBuf)),
    /// Checked and stored by the function itself (names from a list, directories).
    Other(fn(&mut ServerConfig, &str, &OptionValue) -> Result<(), ConfigError>),
    /// Like `Other`, for an option of the static files, which `static_dir` must precede.
    Static(fn(&mut StaticConfig, &str, &OptionValue) -> Result<(), ConfigError>),
}

/// Every option `set_option` accepts, in the order error messages list them.
const OPTIONS: &[(&str, Setter)] = {
    use Setter::{Bool, Int, Other, Path, Seconds, Static};
    &[
        (
            "max_header_size",
            Int(MIN_MAX_HEADER_SIZE as i64, 1 << 24, |c, n| c.limits.max_header_size = n as usize),
        ),
        ("max_headers", Int(1, 10_000, |c, n| c.limits.max_headers = n as usize)),
        ("max_body_size", Int(0, i64::MAX, |c, n| c.limits.max_body_size = n as u64)),
        ("max_body_memory", Int(1, i64::MAX, |c, n| c.limits.max_body_memory = Some(n as u64))),
        ("header_timeout", Seconds(MIN_NETWORK_TIMEOUT, Zero::Refused, |c, d| c.limits.header_timeout = d)),
        ("body_timeout", Seconds(MIN_NETWORK_TIMEOUT, Zero::Refused, |c, d| c.limits.body_timeout = d)),
        (
            "keepalive_timeout",
            Seconds(MIN_NETWORK_TIMEOUT, Zero::Refused, |c, d| c.limits.keepalive_timeout = d),
        ),
        ("write_timeout", Seconds(MIN_NETWORK_TIMEOUT, Zero::Refused, |c, d| c.limits.write_timeout = d)),
        (
            "request_timeout",
            Seconds(MIN_REQUEST_TIMEOUT, Zero::Off, |c, d| c.limits.request_timeout = non_zero(d)),
        ),
        ("max_connections", Int(1, 1_000_000, |c, n| c.limits.max_connections = n as usize)),
        ("max_concurrent_streams", Int(1, 65_535, |c, n| c.limits.max_concurrent_streams = n as u32)),
        ("max_file_uploads", Int(0, 100_000, |c, n| c.limits.max_file_uploads = n as usize)),
        ("max_input_vars", Int(1, 1_000_000, |c, n| c.limits.max_input_vars = n as usize)),
        ("h2c", Bool(|c, b| c.h2c = b)),
        ("backlog", Int(1, 65_535, |c, n| c.backlog = n as u32)),
        ("shutdown_timeout", Seconds(MIN_SHORT_TIMEOUT, Zero::Off, |c, d| c.shutdown_timeout = d)),
        ("io_threads", Int(0, 256, |c, n| c.io_threads = n as usize)),
        ("reactor", Other(set_reactor)),
        ("log_level", Other(set_log_level)),
        ("upload_dir", Other(set_upload_dir)),
        ("compression", Bool(|c, b| c.compression.enabled = b)),
        ("brotli_level", Int(0, 11, |c, n| c.compression.brotli_level = n as u32)),
        ("gzip_level", Int(0, 9, |c, n| c.compression.gzip_level = n as u32)),
        ("compression_min_size", Int(0, i64::MAX, |c, n| c.compression.min_size = n as usize)),
        ("sse_heartbeat", Seconds(MIN_SSE_HEARTBEAT, Zero::Off, |c, d| c.sse.heartbeat = non_zero(d))),
        ("sse_queue_size", Int(1024, 1 << 30, |c, n| c.sse.queue_size = n as usize)),
        ("sse_backpressure", Other(set_sse_backpressure)),
        (
            "sse_backpressure_timeout",
            Seconds(MIN_SHORT_TIMEOUT, Zero::Refused, |c, d| c.sse.backpressure_timeout = d),
        ),
        ("tls_cert", Path(|c, p| c.tls_cert = Some(p))),
        ("tls_key", Path(|c, p| c.tls_key = Some(p))),
        ("static_dir", Other(set_static_dir)),
        ("static_prefix", Static(set_static_prefix)),
        ("static_cache_control", Static(set_static_cache_control)),
        ("static_brotli_cache_size", Static(set_static_brotli_cache_size)),
        ("workers", Int(1, 1024, |c, n| c.workers.count = n as u32)),
        ("affinity_cookie", Other(set_affinity_cookie)),
        ("max_requests", Int(0, i64::MAX, |c, n| c.workers.max_requests = n as u64)),
        ("crash_limit", Int(1, 1_000_000, |c, n| c.workers.crash_limit = n as u32)),
        ("crash_window", Seconds(MIN_CRASH_WINDOW, Zero::Refused, |c, d| c.workers.crash_window = d)),
        ("broker_backlog", Int(64 << 10, 1 << 30, |c, n| c.workers.broker_backlog = n as usize)),
        ("worker_sched_batch", Bool(|c, b| c.workers.sched_batch = b)),
        ("dispatch", Other(set_dispatch)),
        ("health_path", Other(set_health_path)),
        ("metrics_path", Other(set_metrics_path)),
        ("metrics_listen", Other(set_metrics_listen)),
        ("access_log", Other(set_access_log)),
        ("access_log_format", Other(set_access_log_format)),
        ("rate_limit", Other(set_rate_limit)),
        ("rate_limit_burst", Int(1, 1_000_000, |c, n| c.ops.rate_limit_burst = Some(n as u32))),
        ("trusted_proxies", Other(set_trusted_proxies)),
        ("error_pages", Other(set_error_pages)),
    ]
};

/// A duration where 0 means "off".
fn non_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

fn set_log_level(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let s = want_str(name, v)?;
    c.log_level = LogLevel::parse(s)
        .ok_or_else(|| err(name, format!("must be one of {}, \"{s}\" given", LogLevel::NAMES)))?;
    Ok(())
}

fn set_upload_dir(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let path = want_path(name, v)?;
    if !path.is_dir() {
        return Err(err(name, format!("\"{}\" is not a directory", path.display())));
    }
    c.upload_dir = Some(path);
    Ok(())
}

/// The CPUs this process may run on: its affinity mask, bounded by its cgroup's CPU quota.
fn usable_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn set_reactor(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    c.reactor = match want_str(name, v)? {
        "auto" => Reactor::Auto,
        "threads" => Reactor::Threads,
        "php" => Reactor::Php,
        other => {
            return Err(err(name, format!("must be \"auto\", \"threads\" or \"php\", \"{other}\" given")))
        }
    };
    Ok(())
}

fn set_dispatch(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    c.workers.dispatch = match want_str(name, v)? {
        "sticky" => Dispatch::Sticky,
        "connection" => Dispatch::Connection,
        other => return Err(err(name, format!("must be \"sticky\" or \"connection\", \"{other}\" given"))),
    };
    Ok(())
}

fn set_sse_backpressure(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    c.sse.backpressure = match want_str(name, v)? {
        "wait" => Backpressure::Wait,
        "drop" => Backpressure::Drop,
        "close" => Backpressure::Close,
        other => {
            return Err(err(name, format!("must be \"wait\", \"drop\" or \"close\", \"{other}\" given")))
        }
    };
    Ok(())
}

/// Turns the static files on (with defaults for the other `static_*` options) or moves them.
fn set_static_dir(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let dir = want_path(name, v)?;
    let root = std::fs::canonicalize(&dir)
        .map_err(|e| err(name, format!("\"{}\" cannot be used: {e}", dir.display())))?;
    if !root.is_dir() {
        return Err(err(name, format!("\"{}\" is not a directory", dir.display())));
    }
    let s = c.static_files.get_or_insert_with(|| StaticConfig {
        root: root.clone(),
        prefix: "/".into(),
        cache_control: DEFAULT_STATIC_CACHE_CONTROL.into(),
        brotli_cache_size: DEFAULT_STATIC_BROTLI_CACHE,
    });
    s.root = root;
    Ok(())
}

fn set_static_prefix(s: &mut StaticConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let p = want_str(name, v)?;
    if !p.starts_with('/') || p.contains("..") || p.contains('\\') {
        return Err(err(name, format!("must be a URL path starting with \"/\", \"{p}\" given")));
    }
    s.prefix = if p.ends_with('/') { p.to_string() } else { format!("{p}/") };
    Ok(())
}

fn set_static_cache_control(s: &mut StaticConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let c = want_str(name, v)?;
    if http::HeaderValue::from_str(c).is_err() {
        return Err(err(name, "must be a valid header value"));
    }
    s.cache_control = c.to_string();
    Ok(())
}

fn set_static_brotli_cache_size(
    s: &mut StaticConfig,
    name: &str,
    v: &OptionValue,
) -> Result<(), ConfigError> {
    s.brotli_cache_size = want_int(name, v, 0, 1 << 34)? as usize;
    Ok(())
}

/// A cookie name is an RFC 9110 token.
fn set_affinity_cookie(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let cookie = want_str(name, v)?;
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if cookie.is_empty() || !cookie.bytes().all(is_token) {
        return Err(err(
            name,
            format!("must be a cookie name (letters, digits, !#$%&'*+-.^_`|~), \"{cookie}\" given"),
        ));
    }
    c.workers.affinity_cookie = cookie.to_string();
    Ok(())
}

/// A URL path of the runtime's own (`/health`): absolute, no query, no `..`; "" turns it off.
fn want_own_path(name: &str, v: &OptionValue) -> Result<Option<String>, ConfigError> {
    let p = want_str(name, v)?;
    if p.is_empty() {
        return Ok(None);
    }
    if !p.starts_with('/')
        || p.contains(['?', '#', '\\'])
        || p.contains("..")
        || http::Uri::try_from(p).is_err()
    {
        return Err(err(
            name,
            format!("must be a URL path starting with \"/\" (or \"\" for off), \"{p}\" given"),
        ));
    }
    Ok(Some(p.to_string()))
}

fn set_health_path(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    c.ops.health_path = want_own_path(name, v)?;
    Ok(())
}

fn set_metrics_path(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    c.ops.metrics_path = want_own_path(name, v)?;
    Ok(())
}

/// `host:port` (`127.0.0.1:9090`, `[::1]:9090`), resolved when the server binds.
fn set_metrics_listen(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let s = want_str(name, v)?;
    if s.is_empty() {
        c.ops.metrics_listen = None;
        return Ok(());
    }
    let port_ok =
        s.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !port_ok {
        return Err(err(name, format!("must be \"host:port\" (as \"127.0.0.1:9090\"), \"{s}\" given")));
    }
    c.ops.metrics_listen = Some(s.to_string());
    Ok(())
}

/// "stderr", a file path (opened for appending when the server starts), or "" (off).
fn set_access_log(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    use crate::ops::access_log::Target;
    let s = want_str(name, v)?;
    c.ops.access_log = match s {
        "" | "off" => None,
        "stderr" => Some(Target::Stderr),
        _ => {
            let path = want_path(name, v)?;
            if path.parent().is_some_and(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
                return Err(err(name, format!("the directory of \"{s}\" does not exist")));
            }
            Some(Target::File(path))
        }
    };
    Ok(())
}

fn set_access_log_format(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let s = want_str(name, v)?;
    c.ops.access_log_format = crate::ops::access_log::Format::parse(s)
        .ok_or_else(|| err(name, format!("must be \"common\", \"combined\" or \"json\", \"{s}\" given")))?;
    Ok(())
}

/// Requests a second per client address (int or float); 0 turns it off.
fn set_rate_limit(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let rate = match v {
        OptionValue::Int(n) => *n as f64,
        OptionValue::Float(f) => *f,
        other => return Err(err(name, format!("must be requests per second, {} given", other.type_name()))),
    };
    if !(rate == 0.0 || (0.001..=1e9).contains(&rate)) {
        return Err(err(
            name,
            format!("must be 0 (off) or between 0.001 and 1e9, {} given", format_seconds(rate)),
        ));
    }
    c.ops.rate_limit = rate;
    Ok(())
}

/// Addresses and networks, separated by commas or spaces: "127.0.0.1, 10.0.0.0/8, ::1".
fn set_trusted_proxies(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    c.ops.trusted_proxies =
        crate::ops::proxy::TrustedProxies::parse(want_str(name, v)?).map_err(|m| err(name, m))?;
    Ok(())
}

/// A directory of `NNN.html` pages, loaded now.
fn set_error_pages(c: &mut ServerConfig, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
    let dir = want_path(name, v)?;
    if !dir.is_dir() {
        return Err(err(name, format!("\"{}\" is not a directory", dir.display())));
    }
    let pages = crate::ops::error_pages::ErrorPages::load(&dir).map_err(|m| err(name, m))?;
    c.ops.error_pages = Some((dir, pages));
    Ok(())
}

impl ServerConfig {
    /// Applies one named option. Unknown names and wrong types are errors, never ignored.
    pub fn set_option(&mut self, name: &str, v: &OptionValue) -> Result<(), ConfigError> {
        let Some((_, setter)) = OPTIONS.iter().find(|(option, _)| *option == name) else {
            let known: Vec<&str> = OPTIONS.iter().map(|(option, _)| *option).collect();
            return Err(err(name, format!("unknown option; known options are: {}", known.join(", "))));
        };
        match setter {
            Setter::Int(min, max, set) => set(self, want_int(name, v, *min, *max)?),
            Setter::Seconds(min, zero, set) => set(self, want_seconds(name, v, *min, *zero)?),
            Setter::Bool(set) => set(self, want_bool(name, v)?),
            Setter::Path(set) => set(self, want_path(name, v)?),
            Setter::Other(set) => set(self, name, v)?,
            Setter::Static(set) => {
                let Some(s) = self.static_files.as_mut() else {
                    return Err(err(name, "needs \"static_dir\" (give static_dir first)"));
                };
                set(s, name, v)?
            }
        }
        Ok(())
    }

    /// The number of Tokio I/O threads to start.
    pub fn effective_io_threads(&self) -> usize {
        if self.io_threads > 0 {
            return self.io_threads;
        }
        // The PHP thread needs a core of its own; on small machines one I/O thread
        // saturates the network path (measured in bench/RESULTS.md).
        (usable_cpus().saturating_sub(1)).clamp(1, 8)
    }

    /// Who drives this process's I/O: `Threads` or `Php`, never `Auto`. With one CPU, I/O
    /// threads would only take turns with the PHP thread on it, each turn a context switch
    /// (decision 0018). Workers that serve their own connections share the CPUs already:
    /// `Php` too (decision 0024).
    pub fn effective_reactor(&self) -> Reactor {
        match self.reactor {
            Reactor::Auto if self.io_threads == 0 && usable_cpus() == 1 => Reactor::Php,
            // Several serving processes share the CPUs already: one thread each, no hand-over.
            Reactor::Auto if self.io_threads == 0 && self.workers.serve_connections() => Reactor::Php,
            Reactor::Auto => Reactor::Threads,
            chosen => chosen,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.host.is_empty() {
            return Err(err("host", "must not be empty"));
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => return Err(err("tls_key", "is required with tls_cert")),
            (None, Some(_)) => return Err(err("tls_cert", "is required with tls_key")),
            _ => {}
        }
        if let Some(memory) = self.limits.max_body_memory {
            if memory < self.limits.max_body_size {
                return Err(err(
                    "max_body_memory",
                    format!(
                        "must be at least max_body_size ({}) or no body that large could be read, \
                         {memory} given",
                        self.limits.max_body_size
                    ),
                ));
            }
        }
        self.ops.validate()?;
        if self.workers.serve_connections()
            && self.ops.metrics_path.is_some()
            && self.ops.metrics_listen.is_none()
        {
            return Err(err(
                "metrics_path",
                "needs metrics_listen with dispatch \"connection\": each worker serves its own \
                 connections, and the master sums their counters on the internal listener",
            ));
        }
        // The runtime's own paths on the public port must not hide a file of the app.
        if let (Some(files), None) = (&self.static_files, &self.ops.metrics_listen) {
            let own = [("health_path", &self.ops.health_path), ("metrics_path", &self.ops.metrics_path)];
            for (option, path) in own {
                let Some(rel) = path.as_deref().and_then(|p| p.strip_prefix(files.prefix.as_str())) else {
                    continue;
                };
                if files.root.join(rel).exists() {
                    return Err(err(
                        option,
                        format!("\"{}\" is also a file of static_dir", path.as_deref().unwrap_or("")),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_option_names_the_known_ones() {
        let mut c = ServerConfig::default();
        let e = c.set_option("max_body", &OptionValue::Int(1)).unwrap_err();
        assert!(e.to_string().contains("unknown option"), "{e}");
        assert!(e.to_string().contains("max_body_size"), "{e}");
    }

    #[test]
    fn wrong_type_and_range_are_errors() {
        let mut c = ServerConfig::default();
        assert!(c.set_option("max_body_size", &OptionValue::Str("1M".into())).is_err());
        assert!(c.set_option("max_header_size", &OptionValue::Int(100)).is_err());
        assert!(c.set_option("header_timeout", &OptionValue::Float(-1.0)).is_err());
        assert!(c.set_option("header_timeout", &OptionValue::Int(0)).is_err());
        assert!(c.set_option("log_level", &OptionValue::Str("loud".into())).is_err());
    }

    /// A configuration with `opts` set, each of which must be valid.
    fn configured(opts: &[(&str, OptionValue)]) -> ServerConfig {
        let mut c = ServerConfig::default();
        for (k, v) in opts {
            c.set_option(k, v).unwrap();
        }
        c
    }

    #[test]
    fn auto_reactor_is_the_php_thread_on_one_cpu_only() {
        let pick = |opts: &[(&str, OptionValue)]| configured(opts).effective_reactor();
        let many = usable_cpus() > 1;
        // On a thread allowed one CPU (affinity is per thread; `available_parallelism`
        // reads this thread's).
        let on_one = std::thread::spawn(move || {
            // SAFETY: a zeroed cpu_set_t is a valid empty set; 0 names this thread.
            let ok = unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(0, &mut set);
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
            };
            assert!(ok, "sched_setaffinity");
            let auto = pick(&[]);
            let asked_threads = pick(&[("io_threads", OptionValue::Int(2))]);
            let chosen = pick(&[("reactor", OptionValue::Str("threads".into()))]);
            (auto, asked_threads, chosen)
        })
        .join()
        .unwrap();
        assert_eq!(on_one, (Reactor::Php, Reactor::Threads, Reactor::Threads));
        if many {
            assert_eq!(pick(&[]), Reactor::Threads);
            assert_eq!(pick(&[("reactor", OptionValue::Str("php".into()))]), Reactor::Php);
        }
        let mut c = ServerConfig::default();
        let e = c.set_option("reactor", &OptionValue::Str("kernel".into())).unwrap_err();
        assert!(e.to_string().contains("\"auto\", \"threads\" or \"php\""), "{e}");
    }

    #[test]
    fn dispatch_is_sticky_by_default_and_connection_workers_run_one_thread_each() {
        let (two, conn) =
            (("workers", OptionValue::Int(2)), ("dispatch", OptionValue::Str("connection".into())));
        assert_eq!(configured(std::slice::from_ref(&two)).workers.dispatch, Dispatch::Sticky);
        assert!(!configured(std::slice::from_ref(&two)).workers.serve_connections());
        assert!(
            !configured(std::slice::from_ref(&conn)).workers.serve_connections(),
            "one process serves anyway"
        );
        let c = configured(&[two.clone(), conn.clone()]);
        assert!(c.workers.serve_connections());
        assert_eq!(c.effective_reactor(), Reactor::Php);
        let asked = configured(&[two.clone(), conn.clone(), ("reactor", OptionValue::Str("threads".into()))]);
        assert_eq!(asked.effective_reactor(), Reactor::Threads);
        assert_eq!(
            configured(&[two.clone(), conn.clone(), ("io_threads", OptionValue::Int(1))]).effective_reactor(),
            Reactor::Threads
        );
        let e = ServerConfig::default().set_option("dispatch", &OptionValue::Str("hash".into())).unwrap_err();
        assert!(e.to_string().contains("\"sticky\" or \"connection\", \"hash\" given"), "{e}");
        // Metrics summed over workers that serve their own connections: on metrics_listen only.
        let public =
            configured(&[two.clone(), conn.clone(), ("metrics_path", OptionValue::Str("/metrics".into()))]);
        let e = public.validate().unwrap_err();
        assert!(e.to_string().contains("needs metrics_listen"), "{e}");
        let internal = configured(&[
            two,
            conn,
            ("metrics_path", OptionValue::Str("/metrics".into())),
            ("metrics_listen", OptionValue::Str("127.0.0.1:0".into())),
        ]);
        internal.validate().unwrap();
    }

    #[test]
    fn body_memory_defaults_to_room_for_four_bodies_and_holds_at_least_one() {
        let c = ServerConfig::default();
        assert_eq!(c.limits.body_memory(), DEFAULT_MAX_BODY_MEMORY);
        let big = configured(&[("max_body_size", OptionValue::Int(1 << 30))]);
        assert_eq!(big.limits.body_memory(), 4 << 30);
        big.validate().unwrap();
        let set = configured(&[("max_body_memory", OptionValue::Int(1 << 20))]);
        let e = set.validate().unwrap_err();
        assert!(e.to_string().contains("must be at least max_body_size (8388608)"), "{e}");
        let fits = configured(&[
            ("max_body_size", OptionValue::Int(1000)),
            ("max_body_memory", OptionValue::Int(1000)),
        ]);
        fits.validate().unwrap();
        assert_eq!(fits.limits.body_memory(), 1000);
        assert!(ServerConfig::default().set_option("max_body_memory", &OptionValue::Int(0)).is_err());
    }

    fn seconds_error(option: &str, secs: f64) -> String {
        let mut c = ServerConfig::default();
        c.set_option(option, &OptionValue::Float(secs)).unwrap_err().to_string()
    }

    #[test]
    fn durations_below_their_minimum_are_refused_with_the_range() {
        assert_eq!(
            seconds_error("header_timeout", 1e-12),
            "option \"header_timeout\": must be between 0.1 and 31536000 seconds, 1e-12 given"
        );
        assert!(seconds_error("keepalive_timeout", 1e-300).contains("between 0.1 and"));
        assert!(seconds_error("write_timeout", 5e-10).contains("5e-10 given"));
        assert!(seconds_error("body_timeout", 0.09).contains("0.09 given"));
        assert!(seconds_error("sse_backpressure_timeout", 1e-4).contains("between 0.001 and"));
        assert!(seconds_error("crash_window", 0.5).contains("between 1 and"));
    }

    #[test]
    fn durations_above_a_year_or_not_finite_are_refused() {
        assert!(seconds_error("header_timeout", 1e300).contains("1e300 given"));
        assert!(seconds_error("body_timeout", 31_536_000.5).contains("31536000.5 given"));
        assert!(seconds_error("header_timeout", f64::NAN).contains("NAN given"));
        assert!(seconds_error("request_timeout", f64::INFINITY).contains("INF given"));
        assert!(seconds_error("shutdown_timeout", -1.0).contains("-1 given"));
    }

    #[test]
    fn zero_turns_off_only_the_options_that_say_so() {
        let mut c = ServerConfig::default();
        c.set_option("sse_heartbeat", &OptionValue::Int(0)).unwrap();
        assert_eq!(c.sse.heartbeat, None);
        c.set_option("shutdown_timeout", &OptionValue::Int(0)).unwrap();
        assert_eq!(c.shutdown_timeout, Duration::ZERO);
        assert_eq!(
            seconds_error("request_timeout", 0.001),
            "option \"request_timeout\": must be 0 (off) or between 0.01 and 31536000 seconds, 0.001 given"
        );
        assert!(seconds_error("sse_heartbeat", 0.05).contains("0 (off) or between 0.1"));
        assert!(seconds_error("write_timeout", 0.0).contains("between 0.1 and"));
    }

    #[test]
    fn durations_at_their_limits_are_accepted() {
        let mut c = ServerConfig::default();
        c.set_option("header_timeout", &OptionValue::Float(0.1)).unwrap();
        assert_eq!(c.limits.header_timeout, MIN_NETWORK_TIMEOUT);
        c.set_option("keepalive_timeout", &OptionValue::Int(31_536_000)).unwrap();
        assert_eq!(c.limits.keepalive_timeout, Duration::from_secs(31_536_000));
        c.set_option("request_timeout", &OptionValue::Float(0.01)).unwrap();
        assert_eq!(c.limits.request_timeout, Some(MIN_REQUEST_TIMEOUT));
        c.set_option("crash_window", &OptionValue::Int(1)).unwrap();
        assert_eq!(c.workers.crash_window, MIN_CRASH_WINDOW);
    }

    #[test]
    fn paths_with_a_nul_byte_are_refused() {
        for option in ["upload_dir", "tls_cert", "tls_key", "static_dir"] {
            let mut c = ServerConfig::default();
            let e = c.set_option(option, &OptionValue::Str("/tmp\0x".into())).unwrap_err();
            assert_eq!(e.to_string(), format!("option \"{option}\": must not contain any null bytes"));
        }
    }

    #[test]
    fn seconds_are_formatted_short() {
        assert_eq!(format_seconds(0.1), "0.1");
        assert_eq!(format_seconds(31_536_000.0), "31536000");
        assert_eq!(format_seconds(1e-12), "1e-12");
        assert_eq!(format_seconds(1e300), "1e300");
        assert_eq!(format_seconds(0.0), "0");
        assert_eq!(format_seconds(f64::NEG_INFINITY), "-INF");
    }

    #[test]
    fn request_timeout_zero_disables_it() {
        let mut c = ServerConfig::default();
        c.set_option("request_timeout", &OptionValue::Int(0)).unwrap();
        assert_eq!(c.limits.request_timeout, None);
        c.set_option("request_timeout", &OptionValue::Float(1.5)).unwrap();
        assert_eq!(c.limits.request_timeout, Some(Duration::from_millis(1500)));
    }
}
