//! The client of the framework benchmark (bench/framework.py drives it): browser tabs on a
//! `Via\Framework` app (bench/apps/framework.php), speaking Datastar 1.0's wire format.
//!
//! A tab is what a browser does with a page: `GET <page>` on its own connection (no cookie,
//! so the server gives each tab its own session, kept in the tab's cookie jar), the context
//! id scraped from the page's `data-signals` (`via_ctx`) and the id of the signal to watch
//! from the view's `data-text="$id"`; then `GET /_sse?datastar={"via_ctx":…}` with the cookie
//! on a second connection (`reuse`: on the page's), held open, de-chunked, Brotli-decoded when the server answered
//! `content-encoding: br`, and parsed into events (`event:`/`data:` lines, a blank line ends
//! one). Every `datastar-patch-signals` event's JSON is read for the watched signal's value;
//! that value is how a patch is matched to the action that caused it. Actions are
//! `POST /_action/{id}` with the tab's signals as JSON, its cookie and `Origin: http://<Host>`,
//! on keep-alive connections of their own.
//!
//! Protocol with the driver, one line each way (answers are JSON unless said otherwise):
//!   start            opens one tab and runs one action on it (the app's code paths warm),
//!                    prints `warm`, then waits for `open`
//!   open             opens the other tabs; prints `ready {…}` once every tab's stream has
//!                    delivered its first signals patch and the server counts every stream
//!   latency R S C    actions at a steady R/s for S s over C connections, spread round-robin
//!                    over the tabs; per action, the time from handing the POST to its
//!                    connection until the tab's stream delivers the signals patch with the
//!                    value it set (a counter page)
//!   broadcast N A    N times, one POST of action A (a ROUTE page's), then waits until every
//!                    tab has the signals patch with the new value: time until the last tab
//!                    (per broadcast) and until each tab (per delivery)
//!   tabs PATH        writes `context id \t cookie \t signal id` per tab (for wrk's script)
//!   stats            what the streams received
//!   quit             exits
//!
//! Usage: framework_load <port> <page path> <tabs> <action> [br] [reuse]
//!   br     `Accept-Encoding: br` on the stream (decoded here)
//!   reuse  the stream on the page's kept-alive connection, as a browser's fetch() may do
//!          (the runtime then serves it through hyper, not its buffer-less stream path)
//! One thread (a current-thread runtime), as bench/sse_load.rs: the client's own cost is in
//! every latency, on a machine it shares with the server.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify, Semaphore};

/// Tabs being opened at once (page GET through the stream's first response bytes).
const OPEN_CONCURRENCY: usize = 64;
/// How long a phase waits for patches it is owed before it reports them missing.
const PHASE_TIMEOUT: Duration = Duration::from_secs(30);

/// Ends the run at once: a panic in a task would only end that task.
fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("framework_load: {what}: {err}");
    std::process::exit(1)
}

// ---- wire formats ------------------------------------------------------------------------

/// A response head: status, lower-cased headers, and its length in bytes.
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
    len: usize,
}

impl Head {
    fn parse(buf: &[u8]) -> Option<Head> {
        let mut storage = [httparse::EMPTY_HEADER; 32];
        let mut res = httparse::Response::new(&mut storage);
        match res.parse(buf) {
            Ok(httparse::Status::Complete(len)) => Some(Head {
                status: res.code.unwrap_or(0),
                headers: res
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect(),
                len,
            }),
            Ok(httparse::Status::Partial) => None,
            Err(e) => fail("response head", e),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Reads until a whole response head is in `buf`; returns it (the body's first bytes stay
/// in `buf` after `head.len`).
async fn read_head(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> Head {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(head) = Head::parse(buf) {
            return head;
        }
        let n = tcp.read(&mut chunk).await.unwrap_or_else(|e| fail("read response head", e));
        if n == 0 {
            fail("read response head", "the server closed the connection");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Incremental decoder of `transfer-encoding: chunked`.
#[derive(Default)]
struct Dechunk {
    /// Bytes of the current chunk still to come; then its CRLF.
    remaining: usize,
    crlf: usize,
    line: Vec<u8>,
    done: bool,
}

impl Dechunk {
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() && !self.done {
            if self.remaining > 0 {
                let n = self.remaining.min(input.len());
                out.extend_from_slice(&input[..n]);
                self.remaining -= n;
                input = &input[n..];
                if self.remaining == 0 {
                    self.crlf = 2;
                }
            } else if self.crlf > 0 {
                self.crlf -= 1;
                input = &input[1..];
            } else {
                let Some(i) = input.iter().position(|&b| b == b'\n') else {
                    self.line.extend_from_slice(input);
                    return;
                };
                self.line.extend_from_slice(&input[..i]);
                input = &input[i + 1..];
                let text = String::from_utf8_lossy(&self.line);
                let size = text.trim().split(';').next().unwrap_or("");
                let size =
                    usize::from_str_radix(size, 16).unwrap_or_else(|_| fail("chunk size", text.trim()));
                self.line.clear();
                if size == 0 {
                    self.done = true;
                } else {
                    self.remaining = size;
                }
            }
        }
    }
}

/// Datastar's events: `event:` and `data:` lines, a blank line ends an event.
#[derive(Default)]
struct SseParser {
    line: Vec<u8>,
    event: String,
    data: String,
}

impl SseParser {
    fn feed(&mut self, input: &[u8], mut on_event: impl FnMut(&str, &str)) {
        for &b in input {
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
            let line = String::from_utf8_lossy(&self.line).into_owned();
            self.line.clear();
            if line.is_empty() {
                if !self.data.is_empty() || !self.event.is_empty() {
                    on_event(&self.event, &self.data);
                }
                self.event.clear();
                self.data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                self.event = v.trim_start().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(v.strip_prefix(' ').unwrap_or(v));
            } // comments (`: ping`), id:, retry: need nothing here
        }
    }
}

/// The watched signal's value in a `datastar-patch-signals` event's data.
fn signal_value(data: &str, signal: &str) -> Option<i64> {
    let json = data.lines().find_map(|l| l.strip_prefix("signals "))?;
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| fail("signals JSON", e));
    value.get(signal)?.as_i64()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The page's `via_ctx` (from `data-signals="…"`) and the first `data-text="$id"`.
fn scrape(html: &str) -> (String, String) {
    let attr = html
        .find("data-signals=\"")
        .map(|i| &html[i + 14..])
        .unwrap_or_else(|| fail("page", "no data-signals"));
    let attr = &attr[..attr.find('"').unwrap_or_else(|| fail("page", "data-signals unterminated"))];
    let signals: serde_json::Value =
        serde_json::from_str(&html_unescape(attr)).unwrap_or_else(|e| fail("data-signals", e));
    let ctx = signals["via_ctx"].as_str().unwrap_or_else(|| fail("page", "no via_ctx")).to_owned();
    let text =
        html.find("data-text=\"$").map(|i| &html[i + 12..]).unwrap_or_else(|| fail("page", "no data-text"));
    let signal = text[..text.find('"').unwrap_or(0)].to_owned();
    (ctx, signal)
}

// ---- tabs ---------------------------------------------------------------------------------

struct Tab {
    ctx: String,
    /// `via_session_id=…`, this tab's cookie jar.
    cookie: String,
    signal: String,
    /// The latest value of the watched signal its stream delivered.
    seen: AtomicI64,
    /// The value its next action will set (latency phase).
    next: AtomicI64,
    /// Actions sent whose patch has not arrived: (value they set, ns sent).
    pending: Mutex<VecDeque<(i64, u64)>>,
    /// The last broadcast target this tab has delivered.
    acked: AtomicI64,
    first_patch: AtomicBool,
}

impl Tab {
    /// The JSON body Datastar posts: the tab's signals (underscore-prefixed ones excluded).
    fn body(&self, value: i64) -> String {
        format!("{{\"via_ctx\":{},\"{}\":{value}}}", serde_json::Value::from(self.ctx.as_str()), self.signal)
    }
}

#[derive(Default)]
struct Counters {
    events: AtomicU64,
    signal_events: AtomicU64,
    wire_bytes: AtomicU64,
    decoded_bytes: AtomicU64,
    streams_ended: AtomicUsize,
}

struct Shared {
    base: Instant,
    addr: SocketAddr,
    host: String,
    page: String,
    br: bool,
    /// The stream on the page's connection, kept alive, instead of a connection of its own.
    reuse: bool,
    tabs: Mutex<Vec<Arc<Tab>>>,
    /// Tabs whose stream delivered its first signals patch.
    first_patches: AtomicUsize,
    first_patches_wanted: AtomicUsize,
    all_first: Notify,
    /// Latency phase: per action, ns from send to patch; actions still owed a patch.
    latencies: Mutex<Vec<u64>>,
    owed: AtomicUsize,
    owed_settled: Notify,
    /// Broadcast phase: the value being waited for (0 = none), its start, deliveries.
    round_target: AtomicI64,
    round_start: AtomicU64,
    round_delivered: AtomicUsize,
    round_last: AtomicU64,
    round_done: Notify,
    deliveries: Mutex<Vec<u64>>,
    counters: Counters,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// A tab's stream delivered `value` of its watched signal.
    fn on_value(&self, tab: &Tab, value: i64) {
        let now = self.now_ns();
        tab.seen.fetch_max(value, Ordering::AcqRel);
        if !tab.first_patch.swap(true, Ordering::AcqRel)
            && self.first_patches.fetch_add(1, Ordering::AcqRel) + 1
                >= self.first_patches_wanted.load(Ordering::Acquire)
        {
            self.all_first.notify_one();
        }
        {
            let mut pending = tab.pending.lock();
            while let Some(&(v, sent)) = pending.front() {
                if v > value {
                    break;
                }
                pending.pop_front();
                self.latencies.lock().push(now.saturating_sub(sent));
                if self.owed.fetch_sub(1, Ordering::AcqRel) == 1 {
                    self.owed_settled.notify_one();
                }
            }
        }
        let target = self.round_target.load(Ordering::Acquire);
        if target > 0 && value >= target && tab.acked.fetch_max(target, Ordering::AcqRel) < target {
            let latency = now.saturating_sub(self.round_start.load(Ordering::Acquire));
            self.round_last.fetch_max(latency, Ordering::AcqRel);
            self.deliveries.lock().push(latency);
            let n = self.tabs.lock().len();
            if self.round_delivered.fetch_add(1, Ordering::AcqRel) + 1 == n {
                self.round_done.notify_one();
            }
        }
    }
}

/// Opens one tab: the page on one connection, then its stream on a second one (or, with
/// `reuse`, on the page's kept-alive connection, as a browser may), read by a task of its own.
async fn open_tab(shared: Arc<Shared>, gate: Arc<Semaphore>) -> Arc<Tab> {
    let permit = gate.acquire_owned().await.expect("semaphore");
    let mut tcp = TcpStream::connect(shared.addr).await.unwrap_or_else(|e| fail("connect (ulimit -n?)", e));
    tcp.set_nodelay(true).ok();
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nAccept: text/html\r\n{}\r\n",
        shared.page,
        shared.host,
        if shared.reuse { "" } else { "Connection: close\r\n" }
    );
    tcp.write_all(req.as_bytes()).await.unwrap_or_else(|e| fail("write page request", e));
    let mut buf = Vec::with_capacity(4096);
    if shared.reuse {
        let head = read_head(&mut tcp, &mut buf).await;
        let len: usize = head
            .get("content-length")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| fail("page", "no content-length"));
        let mut chunk = [0u8; 4096];
        while buf.len() < head.len + len {
            let n = tcp.read(&mut chunk).await.unwrap_or_else(|e| fail("read page", e));
            if n == 0 {
                fail("read page", "connection closed");
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    } else {
        tcp.read_to_end(&mut buf).await.unwrap_or_else(|e| fail("read page", e));
    }
    let head = Head::parse(&buf).unwrap_or_else(|| fail("page", "incomplete response"));
    if head.status != 200 {
        fail("page", format!("status {}", head.status));
    }
    let cookie = head
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .find_map(|(_, v)| v.split(';').next().filter(|c| c.starts_with("via_session_id=")))
        .unwrap_or_else(|| fail("page", "no via_session_id cookie"))
        .to_owned();
    let mut body = Vec::new();
    if head.get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        Dechunk::default().feed(&buf[head.len..], &mut body);
    } else {
        body.extend_from_slice(&buf[head.len..]);
    }
    let (ctx, signal) = scrape(&String::from_utf8_lossy(&body));

    if !shared.reuse {
        tcp = TcpStream::connect(shared.addr).await.unwrap_or_else(|e| fail("connect (ulimit -n?)", e));
        tcp.set_nodelay(true).ok();
    }
    let datastar = serde_json::json!({"via_ctx": ctx, "_disconnected": false}).to_string();
    let req = format!(
        "GET /_sse?datastar={} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nDatastar-Request: true\r\n\
         Cookie: {cookie}\r\n{}\r\n",
        percent_encode(&datastar),
        shared.host,
        if shared.br { "Accept-Encoding: br\r\n" } else { "" }
    );
    tcp.write_all(req.as_bytes()).await.unwrap_or_else(|e| fail("write stream request", e));
    let mut buf = Vec::with_capacity(4096);
    let head = read_head(&mut tcp, &mut buf).await;
    if head.status != 200 || !head.get("content-type").is_some_and(|v| v.starts_with("text/event-stream")) {
        fail("stream", format!("status {} content-type {:?}", head.status, head.get("content-type")));
    }
    let chunked = head.get("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let coding = head.get("content-encoding").unwrap_or("identity").to_owned();
    if shared.br && coding != "br" {
        fail("stream", format!("asked for br, got content-encoding {coding}"));
    }
    buf.drain(..head.len);
    drop(permit);
    let tab = Arc::new(Tab {
        ctx,
        cookie,
        signal,
        seen: AtomicI64::new(i64::MIN),
        next: AtomicI64::new(0),
        pending: Mutex::new(VecDeque::new()),
        acked: AtomicI64::new(0),
        first_patch: AtomicBool::new(false),
    });
    shared.tabs.lock().push(Arc::clone(&tab));
    tokio::spawn(read_stream(tcp, buf, chunked, coding == "br", Arc::clone(&tab), shared));
    tab
}

/// Reads a tab's stream until it ends, handing each signals patch to `Shared::on_value`.
async fn read_stream(
    mut tcp: TcpStream,
    mut wire: Vec<u8>,
    chunked: bool,
    br: bool,
    tab: Arc<Tab>,
    shared: Arc<Shared>,
) {
    let mut dechunk = Dechunk::default();
    let mut decoder = br.then(|| brotli::DecompressorWriter::new(Vec::new(), 4096));
    let mut parser = SseParser::default();
    let mut payload = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        shared.counters.wire_bytes.fetch_add(wire.len() as u64, Ordering::Relaxed);
        payload.clear();
        if chunked {
            dechunk.feed(&wire, &mut payload);
        } else {
            payload.extend_from_slice(&wire);
        }
        wire.clear();
        let text = match decoder.as_mut() {
            Some(d) => {
                d.write_all(&payload).unwrap_or_else(|e| fail("brotli", e));
                std::mem::take(d.get_mut())
            }
            None => std::mem::take(&mut payload),
        };
        shared.counters.decoded_bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
        parser.feed(&text, |event, data| {
            shared.counters.events.fetch_add(1, Ordering::Relaxed);
            if event == "datastar-patch-signals" {
                shared.counters.signal_events.fetch_add(1, Ordering::Relaxed);
                if let Some(v) = signal_value(data, &tab.signal) {
                    shared.on_value(&tab, v);
                }
            }
        });
        if decoder.is_none() {
            payload = text; // keep the allocation
        }
        match tcp.read(&mut chunk).await {
            Ok(n) if n > 0 => wire.extend_from_slice(&chunk[..n]),
            _ => {
                shared.counters.streams_ended.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

// ---- actions and control requests -----------------------------------------------------

/// A keep-alive HTTP/1.1 connection for actions and `/_bench`.
struct Conn {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn connect(addr: SocketAddr) -> Conn {
        let tcp = TcpStream::connect(addr).await.unwrap_or_else(|e| fail("connect", e));
        tcp.set_nodelay(true).ok();
        Conn { tcp, buf: Vec::with_capacity(4096) }
    }

    /// Sends a request, returns the status and body (responses carry content-length).
    async fn request(&mut self, req: &[u8]) -> (u16, Vec<u8>) {
        self.tcp.write_all(req).await.unwrap_or_else(|e| fail("write request", e));
        let head = read_head(&mut self.tcp, &mut self.buf).await;
        let len: usize = head.get("content-length").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        let mut chunk = [0u8; 4096];
        while self.buf.len() < head.len + len {
            let n = self.tcp.read(&mut chunk).await.unwrap_or_else(|e| fail("read response", e));
            if n == 0 {
                fail("read response", "connection closed");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let body = self.buf[head.len..head.len + len].to_vec();
        self.buf.drain(..head.len + len);
        (head.status, body)
    }

    async fn action(&mut self, host: &str, action: &str, tab: &Tab, body: &str) -> u16 {
        let req = format!(
            "POST /_action/{action} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nCookie: {}\r\n\
             Content-Type: application/json\r\nDatastar-Request: true\r\nContent-Length: {}\r\n\r\n{body}",
            tab.cookie,
            body.len()
        );
        let (status, text) = self.request(req.as_bytes()).await;
        if status != 200 {
            fail(
                &format!("POST /_action/{action}"),
                format!("status {status}: {}", String::from_utf8_lossy(&text)),
            );
        }
        status
    }

    async fn server_stats(&mut self, host: &str) -> serde_json::Value {
        let (status, body) =
            self.request(format!("GET /_bench HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes()).await;
        if status != 200 {
            fail("GET /_bench", status);
        }
        serde_json::from_slice(&body).unwrap_or_else(|e| fail("/_bench JSON", e))
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1e6
}

fn summary(name: &str, mut v: Vec<u64>) -> String {
    v.sort_unstable();
    format!(
        "\"{name}_p50_ms\":{:.3},\"{name}_p99_ms\":{:.3},\"{name}_max_ms\":{:.3},\"{name}_n\":{}",
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        percentile(&v, 1.0),
        v.len()
    )
}

// ---- phases ---------------------------------------------------------------------------------

/// Opens `n` tabs and waits until each has its first signals patch and the server counts
/// every stream.
async fn open_tabs(shared: &Arc<Shared>, n: usize) {
    let total = shared.tabs.lock().len() + n;
    shared.first_patches_wanted.store(total, Ordering::Release);
    let gate = Arc::new(Semaphore::new(OPEN_CONCURRENCY));
    for _ in 0..n {
        tokio::spawn(open_tab(Arc::clone(shared), Arc::clone(&gate)));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while shared.first_patches.load(Ordering::Acquire) < total {
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left.min(Duration::from_secs(1)), shared.all_first.notified()).await.is_err()
            && left.is_zero()
        {
            fail(
                "open",
                format!(
                    "{} of {total} tabs had their first patch",
                    shared.first_patches.load(Ordering::Acquire)
                ),
            );
        }
    }
    let mut conn = Conn::connect(shared.addr).await;
    loop {
        let stats = conn.server_stats(&shared.host).await;
        if stats["sse"].as_u64().unwrap_or(0) as usize >= total
            && stats["contexts"].as_u64().unwrap_or(0) as usize >= total
        {
            return;
        }
        if Instant::now() > deadline {
            fail(
                "open",
                format!(
                    "the server counts {} streams, {} contexts of {total}",
                    stats["sse"], stats["contexts"]
                ),
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // polling the server's count
    }
}

/// Actions at a steady rate, spread round-robin over the tabs.
async fn latency(shared: &Arc<Shared>, action: &str, rate: f64, seconds: f64, conns: usize) -> String {
    let tabs = shared.tabs.lock().clone();
    for tab in &tabs {
        tab.next.store(tab.seen.load(Ordering::Acquire), Ordering::Release);
    }
    shared.latencies.lock().clear();
    let rtts = Arc::new(Mutex::new(Vec::new()));
    let mut senders = Vec::with_capacity(conns);
    let mut workers = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Arc<Tab>, String, u64)>();
        let mut conn = Conn::connect(shared.addr).await;
        let (shared, rtts, action) = (Arc::clone(shared), Arc::clone(&rtts), action.to_owned());
        workers.push(tokio::spawn(async move {
            while let Some((tab, body, sent)) = rx.recv().await {
                conn.action(&shared.host, &action, &tab, &body).await;
                rtts.lock().push(shared.now_ns() - sent);
            }
        }));
        senders.push(tx);
    }
    let total = (rate * seconds).round() as usize;
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now();
    for k in 0..total {
        tokio::time::sleep_until(start + period * k as u32).await;
        let tab = &tabs[k % tabs.len()];
        let value = tab.next.fetch_add(1, Ordering::AcqRel) + 1;
        let sent = shared.now_ns();
        shared.owed.fetch_add(1, Ordering::AcqRel);
        tab.pending.lock().push_back((value, sent));
        let job = (Arc::clone(tab), tab.body(value - 1), sent);
        senders[k % conns].send(job).unwrap_or_else(|_| fail("latency", "a POST connection ended"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    drop(senders);
    for w in workers {
        w.await.expect("POST worker");
    }
    let deadline = Instant::now() + PHASE_TIMEOUT;
    while shared.owed.load(Ordering::Acquire) > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left.min(Duration::from_millis(200)), shared.owed_settled.notified())
            .await
            .is_err()
            && left.is_zero()
        {
            fail(
                "latency",
                format!("{} of {total} actions never got their patch", shared.owed.load(Ordering::Acquire)),
            );
        }
    }
    let latencies = std::mem::take(&mut *shared.latencies.lock());
    let rtts = std::mem::take(&mut *rtts.lock());
    format!(
        "{{\"actions\":{total},\"tabs\":{},\"rate\":{:.1},{},{}}}",
        tabs.len(),
        total as f64 / elapsed,
        summary("patch", latencies),
        summary("post", rtts)
    )
}

/// `rounds` broadcasts, each one POST, each waited for on every tab.
async fn broadcast(shared: &Arc<Shared>, action: &str, rounds: usize) -> String {
    let tabs = shared.tabs.lock().clone();
    let n = tabs.len();
    let mut conn = Conn::connect(shared.addr).await;
    let mut completions = Vec::with_capacity(rounds);
    let mut rtts = Vec::with_capacity(rounds);
    shared.deliveries.lock().clear();
    let base = tabs.iter().map(|t| t.seen.load(Ordering::Acquire)).max().unwrap_or(0);
    for r in 1..=rounds {
        let target = base + r as i64;
        shared.round_delivered.store(0, Ordering::Release);
        shared.round_last.store(0, Ordering::Release);
        let tab = &tabs[(r * 7919) % n];
        let body = tab.body(tab.seen.load(Ordering::Acquire));
        let start = shared.now_ns();
        shared.round_start.store(start, Ordering::Release);
        shared.round_target.store(target, Ordering::Release);
        conn.action(&shared.host, action, tab, &body).await;
        rtts.push(shared.now_ns() - start);
        let deadline = Instant::now() + PHASE_TIMEOUT;
        while shared.round_delivered.load(Ordering::Acquire) < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left.min(Duration::from_millis(200)), shared.round_done.notified())
                .await
                .is_err()
                && left.is_zero()
            {
                fail(
                    "broadcast",
                    format!(
                        "round {r}: {} of {n} tabs got the patch",
                        shared.round_delivered.load(Ordering::Acquire)
                    ),
                );
            }
        }
        completions.push(shared.round_last.load(Ordering::Acquire));
        tokio::time::sleep(Duration::from_millis(20)).await; // rounds apart, as clicks are
    }
    shared.round_target.store(0, Ordering::Release);
    let deliveries = std::mem::take(&mut *shared.deliveries.lock());
    format!(
        "{{\"broadcasts\":{rounds},\"tabs\":{n},{},{},{}}}",
        summary("all_tabs", completions),
        summary("one_tab", deliveries),
        summary("post", rtts)
    )
}

fn write_tabs(shared: &Shared, path: &str) -> String {
    let mut out = String::new();
    for tab in shared.tabs.lock().iter() {
        out.push_str(&format!("{}\t{}\t{}\n", tab.ctx, tab.cookie, tab.signal));
    }
    std::fs::write(path, out).unwrap_or_else(|e| fail("write tabs file", e));
    format!("{{\"tabs\":{}}}", shared.tabs.lock().len())
}

fn stream_stats(shared: &Shared) -> String {
    let c = &shared.counters;
    format!(
        "{{\"tabs\":{},\"events\":{},\"signal_events\":{},\"wire_bytes\":{},\"decoded_bytes\":{},\"streams_ended\":{}}}",
        shared.tabs.lock().len(),
        c.events.load(Ordering::Relaxed),
        c.signal_events.load(Ordering::Relaxed),
        c.wire_bytes.load(Ordering::Relaxed),
        c.decoded_bytes.load(Ordering::Relaxed),
        c.streams_ended.load(Ordering::Relaxed)
    )
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|_| out.flush()).unwrap_or_else(|e| fail("stdout", e));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        fail("usage", "framework_load <port> <page path> <tabs> <action> [br] [reuse]");
    }
    let port: u16 = args[0].parse().unwrap_or_else(|e| fail("port", e));
    let tabs: usize = args[2].parse().unwrap_or_else(|e| fail("tabs", e));
    let action = args[3].clone();
    let shared = Arc::new(Shared {
        base: Instant::now(),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        host: format!("127.0.0.1:{port}"),
        page: args[1].clone(),
        br: args[4..].iter().any(|a| a == "br"),
        reuse: args[4..].iter().any(|a| a == "reuse"),
        tabs: Mutex::new(Vec::with_capacity(tabs)),
        first_patches: AtomicUsize::new(0),
        first_patches_wanted: AtomicUsize::new(usize::MAX),
        all_first: Notify::new(),
        latencies: Mutex::new(Vec::new()),
        owed: AtomicUsize::new(0),
        owed_settled: Notify::new(),
        round_target: AtomicI64::new(0),
        round_start: AtomicU64::new(0),
        round_delivered: AtomicUsize::new(0),
        round_last: AtomicU64::new(0),
        round_done: Notify::new(),
        deliveries: Mutex::new(Vec::new()),
        counters: Counters::default(),
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let (line_tx, mut lines) = mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                if line_tx.send(line.unwrap_or_default()).is_err() {
                    return;
                }
            }
        });
        // One tab and one action before the baseline: the app's code is loaded and warm.
        open_tabs(&shared, 1).await;
        let first = Arc::clone(&shared.tabs.lock()[0]);
        let before = first.seen.load(Ordering::Acquire);
        Conn::connect(shared.addr).await.action(&shared.host, &action, &first, &first.body(before)).await;
        let deadline = Instant::now() + PHASE_TIMEOUT;
        while first.seen.load(Ordering::Acquire) <= before {
            if Instant::now() > deadline {
                fail("warm-up", "the action's patch never arrived");
            }
            tokio::time::sleep(Duration::from_millis(5)).await; // polling one tab, once
        }
        say("warm");
        while let Some(line) = lines.recv().await {
            let words: Vec<&str> = line.split_whitespace().collect();
            let arg = |i: usize| words.get(i).copied().unwrap_or_else(|| fail("command", &line));
            match words.first().copied() {
                Some("open") => {
                    let t = Instant::now();
                    open_tabs(&shared, tabs - 1).await;
                    say(&format!(
                        "ready {{\"tabs\":{},\"open_s\":{:.2}}}",
                        shared.tabs.lock().len(),
                        t.elapsed().as_secs_f64()
                    ));
                }
                Some("latency") => {
                    let rate: f64 = arg(1).parse().unwrap_or_else(|e| fail("rate", e));
                    let seconds: f64 = arg(2).parse().unwrap_or_else(|e| fail("seconds", e));
                    let conns: usize = arg(3).parse().unwrap_or_else(|e| fail("connections", e));
                    say(&latency(&shared, &action, rate, seconds, conns).await);
                }
                Some("broadcast") => {
                    let rounds: usize = arg(1).parse().unwrap_or_else(|e| fail("rounds", e));
                    say(&broadcast(&shared, &action, rounds).await);
                }
                Some("tabs") => say(&write_tabs(&shared, arg(1))),
                Some("stats") => say(&stream_stats(&shared)),
                Some("quit") | None => break,
                Some(other) => fail("unknown command", other),
            }
        }
    });
}
