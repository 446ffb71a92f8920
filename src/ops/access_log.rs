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

use http::{StatusCode, Version};

use super::trace::{push_hex, Trace};

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
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub client: SocketAddr,
    pub method: &'a [u8],
    /// The request target (path and query).
    pub target: &'a [u8],
    pub version: Version,
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub status: StatusCode,
    /// Body bytes, when known when the response started (not for a stream).
    pub bytes: Option<u64>,
    pub duration: Duration,
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub sampled: bool,
    /// The client's `X-Request-Id` when it was taken (else the trace id is the request id).
    pub request_id: Option<&'a [u8]>,
}

impl<'a> Entry<'a> {
    /// The trace fields of `t`.
    pub fn with_trace(self, t: &'a Trace) -> Self {
        Self {
            trace_id: t.trace_id,
            span_id: t.span_id,
            sampled: t.flags & 1 == 1,
            request_id: t.given_request_id.as_deref().map(str::as_bytes),
            ..self
        }
    }
}

/// Records waiting for the writer at most; past it they are dropped (counted).
pub const MAX_PENDING: usize = 64 << 10;
/// Bytes of their text (targets, referers, user agents) at most, likewise.
pub const MAX_PENDING_TEXT: usize = 16 << 20;
/// The writer writes at least this often while records wait...
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// ...and at once when this many wait.
const WAKE_AT: usize = 2048;

/// Where a piece of a record's text lies in `Pending::text`.
#[derive(Clone, Copy, Default)]
struct Span {
    at: u32,
    len: u32,
}

/// A queued entry: its fixed fields, and its text copied into the batch's buffer (no
/// reference to the request's memory survives the request, and the writer frees nothing
/// the I/O thread allocated).
struct Record {
    /// When the response started (converted to wall-clock time by the writer).
    at: std::time::Instant,
    entry: Entry<'static>,
    method: Span,
    target: Span,
    referer: Option<Span>,
    user_agent: Option<Span>,
    request_id: Option<Span>,
}

#[derive(Default)]
struct Pending {
    records: Vec<Record>,
    text: Vec<u8>,
    stop: bool,
}

impl Pending {
    fn put(&mut self, b: &[u8]) -> Span {
        let at = self.text.len() as u32;
        self.text.extend_from_slice(b);
        Span { at, len: b.len() as u32 }
    }
}

struct Shared {
    pending: parking_lot::Mutex<Pending>,
    wake: parking_lot::Condvar,
}

/// The log of one server. Records are queued under a short lock; the writer thread takes
/// them every `FLUSH_EVERY` (or at `WAKE_AT` records), formats them and writes them with one
/// call — no formatting, no allocation and no wake-up per request on the I/O thread.
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

    /// Queues the entry (or counts it dropped).
    pub fn log(&self, e: &Entry<'_>, at: std::time::Instant) {
        let text = e.method.len()
            + e.target.len()
            + e.referer.map_or(0, <[u8]>::len)
            + e.user_agent.map_or(0, <[u8]>::len)
            + e.request_id.map_or(0, <[u8]>::len);
        let mut p = self.shared.pending.lock();
        if p.records.len() >= MAX_PENDING || p.text.len() + text > MAX_PENDING_TEXT {
            drop(p);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let record = Record {
            at,
            entry: Entry {
                method: &[],
                target: &[],
                referer: None,
                user_agent: None,
                request_id: None,
                ..*e
            },
            method: p.put(e.method),
            target: p.put(e.target),
            referer: e.referer.map(|v| p.put(v)),
            user_agent: e.user_agent.map(|v| p.put(v)),
            request_id: e.request_id.map(|v| p.put(v)),
        };
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
    let mut taken = Pending::default();
    let mut line = String::new();
    // Wall-clock time from the monotonic clock: one clock read per request, not two.
    let (base_instant, base_time) = (std::time::Instant::now(), SystemTime::now());
    loop {
        let stop = {
            let mut p = shared.pending.lock();
            if !p.stop && p.records.len() < WAKE_AT {
                shared.wake.wait_for(&mut p, FLUSH_EVERY);
            }
            std::mem::swap(&mut p.records, &mut taken.records);
            std::mem::swap(&mut p.text, &mut taken.text);
            p.stop
        };
        if !taken.records.is_empty() {
            line.clear();
            let text = &taken.text;
            let at = |s: Span| &text[s.at as usize..(s.at + s.len) as usize];
            for r in &taken.records {
                let e = Entry {
                    method: at(r.method),
                    target: at(r.target),
                    referer: r.referer.map(at),
                    user_agent: r.user_agent.map(at),
                    request_id: r.request_id.map(at),
                    ..r.entry
                };
                let time = match r.at.checked_duration_since(base_instant) {
                    Some(d) => base_time + d,
                    None => base_time - base_instant.duration_since(r.at),
                };
                format_into(&mut line, format, &e, time);
            }
            let lines = taken.records.len() as u64;
            taken.records.clear();
            taken.text.clear();
            if out.write_all(line.as_bytes()).and_then(|()| out.flush()).is_err() {
                // Nowhere to report it but the runtime's log (stderr, maybe the same pipe).
                crate::warn!("writing the access log failed; {lines} line(s) lost");
            } else {
                written.fetch_add(lines, Ordering::Relaxed);
            }
            if line.capacity() > 4 << 20 {
                line.shrink_to(1 << 20);
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
    if let Some(plain) = plain_ascii(v) {
        out.push_str(plain);
        return;
    }
    for &b in v {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\x{b:02X}");
        } else {
            out.push(b as char);
        }
    }
}

/// `n` (below 1000) as exactly three digits: a fraction's thousandths.
fn push_3_digits(out: &mut String, n: u64) {
    for digit in [n / 100 % 10, n / 10 % 10, n % 10] {
        out.push(char::from(b'0' + digit as u8));
    }
}

fn push_u64(out: &mut String, n: u64) {
    out.push_str(crate::http::answer::itoa_buf(n).as_str());
}

/// The client's address as text (IPv4 without the formatting machinery: the common case).
fn push_ip(out: &mut String, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u64(out, u64::from(octet));
            }
        }
        v6 => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// Printable ASCII without `"` and `\`: the bytes can go into a quoted field as they are.
fn plain_ascii(v: &[u8]) -> Option<&str> {
    v.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\').then(|| {
        // Checked: ASCII only.
        std::str::from_utf8(v).unwrap_or("")
    })
}

/// A JSON string of `v` (invalid UTF-8 replaced, as `String::from_utf8_lossy`).
fn json_str(out: &mut String, v: &[u8]) {
    if let Some(plain) = plain_ascii(v) {
        out.push('"');
        out.push_str(plain);
        out.push('"');
        return;
    }
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
            out.push_str(iso_form);
            out.push('.');
            push_3_digits(out, u64::from(d.subsec_millis()));
            out.push('Z');
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
    let target = e.target;
    let micros = e.duration.as_micros();
    if format == Format::Json {
        s.push_str("{\"time\":\"");
        push_time(s, now, false);
        s.push_str("\",\"remote_addr\":\"");
        push_ip(s, e.client.ip());
        s.push_str("\",\"method\":");
        json_str(s, e.method);
        s.push_str(",\"uri\":");
        json_str(s, target);
        // Numbers through `push_u64`: the `fmt` machinery was most of the writer's own time.
        s.push_str(",\"protocol\":\"");
        s.push_str(version_str(e.version));
        s.push_str("\",\"status\":");
        s.push_str(e.status.as_str());
        s.push_str(",\"bytes\":");
        match e.bytes {
            Some(n) => push_u64(s, n),
            None => s.push_str("null"),
        }
        s.push_str(",\"duration_ms\":");
        let micros = u64::try_from(micros).unwrap_or(u64::MAX);
        push_u64(s, micros / 1000);
        s.push('.');
        push_3_digits(s, micros % 1000);
        for (key, value) in [(",\"referer\":", e.referer), (",\"user_agent\":", e.user_agent)] {
            s.push_str(key);
            match value {
                Some(v) => json_str(s, v),
                None => s.push_str("null"),
            }
        }
        s.push_str(",\"request_id\":");
        match e.request_id {
            Some(id) => json_str(s, id),
            None => {
                s.push('"');
                push_hex(s, &e.trace_id);
                s.push('"');
            }
        }
        s.push_str(",\"trace_id\":\"");
        push_hex(s, &e.trace_id);
        s.push_str("\",\"span_id\":\"");
        push_hex(s, &e.span_id);
        s.push_str("\"}\n");
        return;
    }
    push_ip(s, e.client.ip());
    s.push_str(" - - [");
    push_time(s, now, true);
    s.push_str("] \"");
    quoted(s, e.method);
    s.push(' ');
    quoted(s, target);
    s.push(' ');
    s.push_str(version_str(e.version));
    s.push_str("\" ");
    s.push_str(e.status.as_str());
    s.push(' ');
    match e.bytes {
        Some(n) if n > 0 => push_u64(s, n),
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
        match e.request_id {
            Some(id) => quoted(s, id),
            None => push_hex(s, &e.trace_id),
        }
        s.push_str("\" \"00-");
        push_hex(s, &e.trace_id);
        s.push('-');
        push_hex(s, &e.span_id);
        s.push_str(if e.sampled { "-01\"" } else { "-00\"" });
    }
    s.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn entry_line(format: Format, headers: &HeaderMap, uri: &str) -> String {
        let trace = Trace::from_headers(headers);
        let e = Entry {
            client: "203.0.113.9:5000".parse().unwrap(),
            method: b"GET",
            target: uri.as_bytes(),
            version: Version::HTTP_11,
            referer: headers.get("referer").map(HeaderValue::as_bytes),
            user_agent: headers.get("user-agent").map(HeaderValue::as_bytes),
            status: StatusCode::OK,
            bytes: Some(42),
            duration: Duration::from_micros(1500),
            trace_id: [0; 16],
            span_id: [0; 8],
            sampled: false,
            request_id: None,
        }
        .with_trace(&trace);
        format_line(format, &e, UNIX_EPOCH + Duration::from_secs(971_186_136))
    }

    #[test]
    fn a_queued_entry_is_written_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let log = AccessLog::start(&Target::File(path.clone()), Format::Common).unwrap();
        let trace = Trace::from_headers(&HeaderMap::new());
        let e = Entry {
            client: "127.0.0.1:1".parse().unwrap(),
            method: b"POST",
            target: b"/a?b=\"c\"",
            version: Version::HTTP_2,
            referer: None,
            user_agent: Some(b"ua"),
            status: StatusCode::CREATED,
            bytes: None,
            duration: Duration::ZERO,
            trace_id: [0; 16],
            span_id: [0; 8],
            sampled: false,
            request_id: None,
        }
        .with_trace(&trace);
        for _ in 0..3 {
            log.log(&e, std::time::Instant::now());
        }
        drop(log); // writes what is queued
        let text = std::fs::read_to_string(&path).unwrap();
        let line = "\"POST /a?b=\\x22c\\x22 HTTP/2.0\" 201 -\n";
        assert_eq!(text.lines().count(), 3, "{text}");
        for l in text.split_inclusive('\n') {
            assert!(l.starts_with("127.0.0.1 - - [") && l.ends_with(line), "{l:?}");
        }
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
