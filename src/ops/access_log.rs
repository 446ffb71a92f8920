//! The access log: one line per answered request, written by a thread of its own.
//!
//! Owns: the line formats (`common`, `combined`, `json`), the writer thread and its
//! bounded queue. A line is formatted where the request was answered (a Tokio thread) and
//! queued; when the queue is full (the disk or the pipe behind stderr does not keep up)
//! the line is dropped and counted (`via_access_log_dropped_total`), so a stalled log never
//! stalls a connection or the PHP thread.
//! Rotation: the file is opened in append mode; `copytruncate` rotation works as is.

use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Method, StatusCode, Uri, Version};

use super::trace::Trace;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Common,
    Combined,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "common" => Some(Self::Common),
            "combined" => Some(Self::Combined),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// Where lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Stderr,
    File(std::path::PathBuf),
}

/// What a line says about one request.
pub struct Entry<'a> {
    pub client: SocketAddr,
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub version: Version,
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub status: StatusCode,
    /// Body bytes, when known when the response started (not for a stream).
    pub bytes: Option<u64>,
    pub duration: Duration,
    pub trace: &'a Trace,
}

/// Records waiting for the writer at most (about 200 bytes each); past it they are dropped
/// (counted).
pub const MAX_PENDING: usize = 64 << 10;
/// The writer writes at least this often while records wait...
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// ...and at once when this many wait.
const WAKE_AT: usize = 2048;

#[derive(Default)]
struct Pending {
    records: Vec<Record>,
    stop: bool,
}

struct Shared {
    pending: parking_lot::Mutex<Pending>,
    wake: parking_lot::Condvar,
}

/// The log of one server. Records are queued under a short lock; the writer thread takes
/// them every `FLUSH_EVERY` (or at `WAKE_AT` records), formats them and writes them with one
/// call — no formatting and no wake-up per request on the I/O thread.
/// One request as the log records it: the values themselves (the head's are shared, not
/// copied), formatted later by the writer thread.
pub struct Record {
    pub time: SystemTime,
    pub client: SocketAddr,
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub referer: Option<http::HeaderValue>,
    pub user_agent: Option<http::HeaderValue>,
    pub status: StatusCode,
    pub bytes: Option<u64>,
    pub duration: Duration,
    pub trace: Trace,
}

impl Record {
    fn entry(&self) -> Entry<'_> {
        Entry {
            client: self.client,
            method: &self.method,
            uri: &self.uri,
            version: self.version,
            referer: self.referer.as_ref().map(http::HeaderValue::as_bytes),
            user_agent: self.user_agent.as_ref().map(http::HeaderValue::as_bytes),
            status: self.status,
            bytes: self.bytes,
            duration: self.duration,
            trace: &self.trace,
        }
    }
}

pub struct AccessLog {
    shared: Arc<Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
    pub dropped: Arc<AtomicU64>,
    pub written: Arc<AtomicU64>,
}

impl AccessLog {
    /// Opens the target and starts the writer thread.
    pub fn start(target: &Target, format: Format) -> std::io::Result<Self> {
        let out: Box<dyn Write + Send> = match target {
            Target::Stderr => Box::new(std::io::stderr()),
            Target::File(path) => Box::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?),
        };
        let shared = Arc::new(Shared { pending: Default::default(), wake: Default::default() });
        let written = Arc::new(AtomicU64::new(0));
        let (s, w) = (Arc::clone(&shared), Arc::clone(&written));
        let writer = std::thread::Builder::new()
            .name("via-access-log".into())
            .spawn(move || write_lines(&s, format, out, &w))?;
        Ok(Self { shared, writer: Some(writer), dropped: Arc::new(AtomicU64::new(0)), written })
    }

    /// Queues the record (or counts it dropped).
    pub fn log(&self, record: Record) {
        let mut p = self.shared.pending.lock();
        if p.records.len() >= MAX_PENDING {
            drop(p);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        p.records.push(record);
        let wake = p.records.len() == WAKE_AT;
        drop(p);
        if wake {
            self.shared.wake.notify_one();
        }
    }
}

impl Drop for AccessLog {
    /// Writes what is left, then ends the writer.
    fn drop(&mut self) {
        self.shared.pending.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// The writer: takes what waits, formats it, writes it with one call, until told to stop.
fn write_lines(shared: &Shared, format: Format, mut out: Box<dyn Write + Send>, written: &AtomicU64) {
    let mut taken = Vec::new();
    let mut text = String::new();
    loop {
        let stop = {
            let mut p = shared.pending.lock();
            if !p.stop && p.records.len() < WAKE_AT {
                shared.wake.wait_for(&mut p, FLUSH_EVERY);
            }
            std::mem::swap(&mut p.records, &mut taken);
            p.stop
        };
        if !taken.is_empty() {
            text.clear();
            for r in &taken {
                format_into(&mut text, format, &r.entry(), r.time);
            }
            let lines = taken.len() as u64;
            taken.clear();
            if out.write_all(text.as_bytes()).and_then(|()| out.flush()).is_err() {
                // Nowhere to report it but the runtime's log (stderr, maybe the same pipe).
                crate::warn!("writing the access log failed; {lines} line(s) lost");
            } else {
                written.fetch_add(lines, Ordering::Relaxed);
            }
            if text.capacity() > 4 << 20 {
                text.shrink_to(1 << 20);
            }
        }
        if stop {
            return;
        }
    }
}

fn version_str(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// A value inside double quotes of a common/combined line: `"` and `\` and bytes outside
/// printable ASCII as `\xHH` (nginx's escaping), so no client can forge a line.
fn quoted(out: &mut String, v: &[u8]) {
    for &b in v {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\x{b:02X}");
        } else {
            out.push(b as char);
        }
    }
}

/// A JSON string of `v` (invalid UTF-8 replaced, as `String::from_utf8_lossy`).
fn json_str(out: &mut String, v: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(v).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends the time: `10/Oct/2000:13:55:36 +0000` (`clf`), or RFC 3339 with milliseconds.
fn push_time(out: &mut String, now: SystemTime, clf: bool) {
    thread_local! {
        /// The second last formatted on this thread, and its two forms without the
        /// milliseconds: most lines of a busy server share their second.
        static LAST: std::cell::RefCell<(u64, String, String)> = const { std::cell::RefCell::new((u64::MAX, String::new(), String::new())) };
    }
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    LAST.with_borrow_mut(|(sec, clf_form, iso_form)| {
        if *sec != d.as_secs() {
            (*clf_form, *iso_form) = format_second(d.as_secs());
            *sec = d.as_secs();
        }
        if clf {
            out.push_str(clf_form);
        } else {
            let _ = write!(out, "{iso_form}.{:03}Z", d.subsec_millis());
        }
    })
}

fn format_second(secs: u64) -> (String, String) {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = secs as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = crate::log::civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    (
        format!("{day:02}/{}/{y:04}:{hh:02}:{mm:02}:{ss:02} +0000", MONTHS[(m - 1) as usize]),
        format!("{y:04}-{m:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}"),
    )
}

#[cfg(test)]
pub fn format_line(format: Format, e: &Entry<'_>, now: SystemTime) -> String {
    let mut s = String::new();
    format_into(&mut s, format, e, now);
    s
}

/// Appends one line (with its newline) to `s`.
pub fn format_into(s: &mut String, format: Format, e: &Entry<'_>, now: SystemTime) {
    let target = e.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let micros = e.duration.as_micros();
    if format == Format::Json {
        s.push_str("{\"time\":\"");
        push_time(s, now, false);
        let _ = write!(s, "\",\"remote_addr\":\"{}\",\"method\":", e.client.ip());
        json_str(s, e.method.as_str().as_bytes());
        s.push_str(",\"uri\":");
        json_str(s, target.as_bytes());
        let _ = write!(
            s,
            ",\"protocol\":\"{}\",\"status\":{},\"bytes\":",
            version_str(e.version),
            e.status.as_u16()
        );
        match e.bytes {
            Some(n) => {
                let _ = write!(s, "{n}");
            }
            None => s.push_str("null"),
        }
        let _ = write!(s, ",\"duration_ms\":{}.{:03}", micros / 1000, micros % 1000);
        for (key, value) in [("referer", e.referer), ("user_agent", e.user_agent)] {
            let _ = write!(s, ",\"{key}\":");
            match value {
                Some(v) => json_str(s, v),
                None => s.push_str("null"),
            }
        }
        s.push_str(",\"request_id\":");
        match &e.trace.given_request_id {
            Some(id) => json_str(s, id.as_bytes()),
            None => {
                s.push('"');
                e.trace.push_request_id(s);
                s.push('"');
            }
        }
        s.push_str(",\"trace_id\":\"");
        super::trace::push_hex(s, &e.trace.trace_id);
        s.push_str("\",\"span_id\":\"");
        super::trace::push_hex(s, &e.trace.span_id);
        s.push_str("\"}\n");
        return;
    }
    let _ = write!(s, "{} - - [", e.client.ip());
    push_time(s, now, true);
    s.push_str("] \"");
    quoted(s, e.method.as_str().as_bytes());
    s.push(' ');
    quoted(s, target.as_bytes());
    let _ = write!(s, " {}\" {} ", version_str(e.version), e.status.as_u16());
    match e.bytes {
        Some(n) if n > 0 => {
            let _ = write!(s, "{n}");
        }
        _ => s.push('-'),
    }
    if format == Format::Combined {
        for value in [e.referer, e.user_agent] {
            s.push_str(" \"");
            match value {
                Some(v) => quoted(s, v),
                None => s.push('-'),
            }
            s.push('"');
        }
        s.push_str(" \"");
        e.trace.push_request_id(s);
        s.push_str("\" \"");
        e.trace.push_traceparent(s);
        s.push('"');
    }
    s.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn entry_line(format: Format, headers: &HeaderMap, uri: &str) -> String {
        let trace = Trace::from_headers(headers);
        let uri: Uri = uri.parse().unwrap();
        let e = Entry {
            client: "203.0.113.9:5000".parse().unwrap(),
            method: &Method::GET,
            uri: &uri,
            version: Version::HTTP_11,
            referer: headers.get("referer").map(HeaderValue::as_bytes),
            user_agent: headers.get("user-agent").map(HeaderValue::as_bytes),
            status: StatusCode::OK,
            bytes: Some(42),
            duration: Duration::from_micros(1500),
            trace: &trace,
        };
        format_line(format, &e, UNIX_EPOCH + Duration::from_secs(971_186_136))
    }

    #[test]
    fn common_and_combined() {
        let mut h = HeaderMap::new();
        h.insert("user-agent", "curl/8 \"x\"".parse().unwrap());
        h.insert("x-request-id", "req-1".parse().unwrap());
        let common = entry_line(Format::Common, &h, "/a?b=1");
        assert_eq!(common, "203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42\n");
        let combined = entry_line(Format::Combined, &h, "/a");
        assert!(
            combined.starts_with(
                "203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] \"GET /a HTTP/1.1\" 200 42 \"-\" \"curl/8 \\x22x\\x22\" \"req-1\" \"00-"
            ),
            "{combined}"
        );
    }

    #[test]
    fn json_lines_parse() {
        let mut h = HeaderMap::new();
        h.insert("referer", HeaderValue::from_bytes(b"http://x/\xff").unwrap());
        let line = entry_line(Format::Json, &h, "/j");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["status"], 200);
        assert_eq!(v["uri"], "/j");
        assert_eq!(v["duration_ms"], 1.5);
        assert_eq!(v["trace_id"].as_str().unwrap().len(), 32);
        assert!(v["referer"].as_str().unwrap().starts_with("http://x/"));
        assert_eq!(v["time"], "2000-10-10T13:55:36.000Z");
        assert_eq!(v["user_agent"], serde_json::Value::Null);
        let mut h = HeaderMap::new();
        h.insert("user-agent", HeaderValue::from_bytes(b"a\"b\\c\t\xff").unwrap());
        let v: serde_json::Value = serde_json::from_str(&entry_line(Format::Json, &h, "/q?x=1")).unwrap();
        assert_eq!(v["user_agent"], "a\"b\\c\t\u{fffd}");
    }
}
