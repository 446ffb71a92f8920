//! Test support: a core server answered by a Rust application, and raw clients.
//!
//! The application below goes through exactly the `Dispatcher`/`Reply` path the PHP
//! runtime uses, so these tests exercise the core as PHP sees it.
#![allow(dead_code)] // each test binary uses a different part of the support code

pub mod php;
pub mod wire;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use via::config::ServerConfig;
use via::http::HeaderList;
use via::http::{
    Dispatcher, IncomingRequest, Reply, RequestBody, ResponseBodySource, ResponseStart, ServerHandle,
    StreamEvent, StreamShared,
};

/// What the test application saw, for assertions.
pub struct Seen {
    pub events_tx: Mutex<mpsc::Sender<StreamEvent>>,
    pub events: Mutex<mpsc::Receiver<StreamEvent>>,
    pub drained_tx: Mutex<mpsc::Sender<()>>,
    pub drained: Mutex<mpsc::Receiver<()>>,
    /// Replies parked by `/never`, kept so that nothing answers them.
    pub parked: Mutex<Vec<Reply>>,
    /// Signalled when a reply is parked.
    pub parked_cv: std::sync::Condvar,
    pub requests: Mutex<Vec<String>>,
}

impl Default for Seen {
    fn default() -> Self {
        let (events_tx, events) = mpsc::channel();
        let (drained_tx, drained) = mpsc::channel();
        Self {
            events_tx: Mutex::new(events_tx),
            events: Mutex::new(events),
            drained_tx: Mutex::new(drained_tx),
            drained: Mutex::new(drained),
            parked: Mutex::default(),
            parked_cv: std::sync::Condvar::new(),
            requests: Mutex::default(),
        }
    }
}

impl Seen {
    /// Waits for the next stream event.
    pub fn next_event(&self, within: Duration) -> Option<StreamEvent> {
        self.events.lock().unwrap().recv_timeout(within).ok()
    }

    /// Waits until a reply is parked by `/never`, and takes the last one.
    pub fn next_parked(&self, within: Duration) -> Option<Reply> {
        let parked = self.parked.lock().unwrap();
        let (mut parked, _) = self.parked_cv.wait_timeout_while(parked, within, |p| p.is_empty()).unwrap();
        parked.pop()
    }

    /// Waits for `drained()`.
    pub fn wait_drained(&self, within: Duration) -> bool {
        self.drained.lock().unwrap().recv_timeout(within).is_ok()
    }
}

pub struct TestApp {
    pub seen: Arc<Seen>,
    me: Mutex<Option<std::sync::Weak<TestApp>>>,
    topics: Mutex<Option<Arc<via::http::Topics>>>,
    /// Streams opened by /sse*, so tests can push to them.
    pub streams: Mutex<Vec<Arc<StreamShared>>>,
}

fn query_num(uri: &http::Uri, key: &str, default: u64) -> u64 {
    uri.query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix(&format!("{key}="))))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Event `i` of the test streams: `id: i`, `data: event i`.
fn numbered_event(i: u64) -> Bytes {
    via::http::sse::format_event(format!("event {i}").as_bytes(), None, Some(i.to_string().as_bytes()), None)
        .unwrap()
}

impl TestApp {
    fn events(&self) -> Arc<dyn Dispatcher> {
        let weak = self.me.lock().unwrap().clone().unwrap();
        weak.upgrade().unwrap()
    }

    fn answer(&self, req: IncomingRequest) {
        let IncomingRequest { head, body, reply, .. } = req;
        self.seen.requests.lock().unwrap().push(format!("{} {}", head.method, head.uri));
        let path = head.uri.path().to_owned();
        let mut headers = HeaderList::new();
        headers.insert("content-type", HeaderValue::from_static("text/plain"));
        match path.as_str() {
            "/hello" => {
                reply.send(ResponseStart::full(StatusCode::OK, headers, Bytes::from_static(b"Hello")));
            }
            "/echo" => {
                let text = match body {
                    RequestBody::Empty => "empty".to_string(),
                    RequestBody::Bytes(b) => format!("bytes:{}", String::from_utf8_lossy(&b)),
                    RequestBody::Multipart { fields, files } => {
                        let mut s = String::from("multipart:");
                        for (k, v) in fields {
                            s += &format!("{k}={};", String::from_utf8_lossy(&v));
                        }
                        for f in &files {
                            let content = std::fs::read(&f.path).unwrap_or_default();
                            s += &format!(
                                "file {}={}:{};",
                                f.field,
                                f.name,
                                String::from_utf8_lossy(&content)
                            );
                        }
                        s
                    }
                };
                reply.send(ResponseStart::full(StatusCode::OK, headers, Bytes::from(text)));
            }
            "/slow" => {
                let ms = query_num(&head.uri, "ms", 100);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    reply.send(ResponseStart::full(StatusCode::OK, headers, Bytes::from_static(b"slow")));
                });
            }
            "/never" => {
                self.seen.parked.lock().unwrap().push(reply);
                self.seen.parked_cv.notify_all();
            }
            "/drop" => drop(reply),
            "/sse" | "/sse-idle" | "/topic" => {
                // An event stream: n events every ms milliseconds (/sse), nothing (/sse-idle),
                // or a member of topic "t" (/topic); heartbeat from ?hb=ms (0 = none).
                let hb = query_num(&head.uri, "hb", 0);
                let cap = query_num(&head.uri, "cap", 1 << 20) as usize;
                headers.insert("content-type", HeaderValue::from_static("text/event-stream"));
                let shared = StreamShared::with_capacity(self.events(), cap);
                let start = ResponseStart {
                    status: StatusCode::OK,
                    reason: None,
                    headers,
                    body: ResponseBodySource::Stream {
                        stream: Arc::clone(&shared),
                        heartbeat: (hb > 0).then(|| Duration::from_millis(hb)),
                    },
                };
                if !reply.send(start) {
                    shared.close();
                    return;
                }
                self.streams.lock().unwrap().push(Arc::clone(&shared));
                match path.as_str() {
                    "/topic" => {
                        let topics = self.topics.lock().unwrap().clone().expect("topics set");
                        topics.join("t", &shared);
                    }
                    "/sse" if query_num(&head.uri, "burst", 0) == 1 => {
                        // Every event queued at once, then the end: one batch for the writer.
                        for i in 0..query_num(&head.uri, "n", 3) {
                            shared.try_push(numbered_event(i));
                        }
                        shared.finish();
                    }
                    "/sse" => {
                        let n = query_num(&head.uri, "n", 3);
                        let ms = query_num(&head.uri, "ms", 10);
                        tokio::spawn(async move {
                            for i in 0..n {
                                if shared.try_push(numbered_event(i)) == via::http::PushOutcome::Closed {
                                    return;
                                }
                                tokio::time::sleep(Duration::from_millis(ms)).await;
                            }
                            shared.finish();
                        });
                    }
                    _ => {}
                }
            }
            "/bytes" => {
                // n=N: a whole answer of N bytes (not compressible: no content type).
                let n = query_num(&head.uri, "n", 0) as usize;
                reply.send(ResponseStart::full(StatusCode::OK, headers, Bytes::from(vec![b'x'; n])));
            }
            "/big" | "/small" | "/png" | "/encoded" => {
                let (ct, body): (&'static str, Bytes) = match path.as_str() {
                    "/big" => ("text/plain", Bytes::from("compress me please ".repeat(600))),
                    "/small" => ("text/plain", Bytes::from_static(b"tiny")),
                    "/png" => ("image/png", Bytes::from(vec![7u8; 5000])),
                    _ => ("text/plain", Bytes::from(vec![b'x'; 5000])),
                };
                headers.insert("content-type", HeaderValue::from_static(ct));
                if path == "/encoded" {
                    headers.insert("content-encoding", HeaderValue::from_static("custom"));
                }
                reply.send(ResponseStart::full(StatusCode::OK, headers, body));
            }
            "/framing" => {
                // An answer shaped by the query, as PHP code could shape it: status=N,
                // body=full|stream|none, data=TEXT (written once), and headers the
                // application sets itself: cl=N, te=1, date=1 (two Date lines), conn=V.
                let q = head.uri.query().unwrap_or("").to_owned();
                let arg = |k: &str| {
                    q.split('&').find_map(|kv| kv.strip_prefix(&format!("{k}="))).map(str::to_owned)
                };
                let status = StatusCode::from_u16(query_num(&head.uri, "status", 200) as u16).unwrap();
                let data = Bytes::from(arg("data").unwrap_or_default());
                if let Some(cl) = arg("cl") {
                    headers.insert("content-length", HeaderValue::from_str(&cl).unwrap());
                }
                if arg("te").is_some() {
                    headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
                }
                if arg("date").is_some() {
                    headers.append("date", HeaderValue::from_static("Mon, 01 Jan 2024 00:00:00 GMT"));
                    headers.append("date", HeaderValue::from_static("Tue, 02 Jan 2024 00:00:00 GMT"));
                }
                if let Some(c) = arg("conn") {
                    headers.insert("connection", HeaderValue::from_str(&c).unwrap());
                }
                match arg("body").as_deref().unwrap_or("full") {
                    "stream" => {
                        let shared = StreamShared::new(self.events());
                        let start = ResponseStart {
                            status,
                            reason: None,
                            headers,
                            body: ResponseBodySource::stream(Arc::clone(&shared)),
                        };
                        if reply.send(start) {
                            let _ = shared.push(data);
                            shared.finish();
                        }
                    }
                    "none" => {
                        reply.send(ResponseStart::full(status, headers, Bytes::new()));
                    }
                    _ => {
                        reply.send(ResponseStart::full(status, headers, data));
                    }
                }
            }
            "/stream" => {
                let n = query_num(&head.uri, "n", 3);
                let ms = query_num(&head.uri, "ms", 10);
                let shared = StreamShared::new(self.events());
                let start = ResponseStart {
                    status: StatusCode::OK,
                    reason: None,
                    headers,
                    body: ResponseBodySource::stream(Arc::clone(&shared)),
                };
                if !reply.send(start) {
                    shared.close();
                    return;
                }
                tokio::spawn(async move {
                    for i in 0..n {
                        if shared.push(Bytes::from(format!("chunk{i}\n"))).is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                    shared.finish();
                });
            }
            _ => {
                reply.send(ResponseStart::full(StatusCode::NOT_FOUND, headers, Bytes::from_static(b"nope")));
            }
        }
    }
}

impl Dispatcher for TestApp {
    fn dispatch(&self, req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        self.answer(*req);
        Ok(())
    }

    fn drained(&self) {
        let _ = self.seen.drained_tx.lock().unwrap().send(());
    }
}

impl via::http::StreamEvents for TestApp {
    fn stream_event(&self, event: StreamEvent) {
        let _ = self.seen.events_tx.lock().unwrap().send(event);
    }
}

pub struct TestServer {
    pub handle: ServerHandle,
    pub seen: Arc<Seen>,
    pub app: Arc<TestApp>,
}

impl TestServer {
    pub fn start(configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig { port: 0, io_threads: 1, ..ServerConfig::default() };
        configure(&mut config);
        let seen = Arc::new(Seen::default());
        let app = Arc::new(TestApp {
            seen: Arc::clone(&seen),
            me: Mutex::new(None),
            topics: Mutex::new(None),
            streams: Mutex::default(),
        });
        *app.me.lock().unwrap() = Some(Arc::downgrade(&app));
        let handle =
            ServerHandle::start(config, Arc::clone(&app) as Arc<dyn Dispatcher>).expect("server starts");
        *app.topics.lock().unwrap() = Some(handle.topics());
        Self { handle, seen, app }
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }
}

/// A parsed HTTP/1 response read from a raw socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn read_line(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(pos) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..pos]).into_owned();
            buf.drain(..pos + 2);
            return Some(line);
        }
        let mut tmp = [0u8; 4096];
        let n = s.read(&mut tmp).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

fn read_exact_buf(s: &mut TcpStream, buf: &mut Vec<u8>, n: usize) -> Option<Vec<u8>> {
    while buf.len() < n {
        let mut tmp = [0u8; 4096];
        let got = s.read(&mut tmp).ok()?;
        if got == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..got]);
    }
    Some(buf.drain(..n).collect())
}

/// Reads one response (content-length, chunked, or until close). `buf` carries bytes
/// between pipelined responses. `None` when the connection closed first.
pub fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>, head_request: bool) -> Option<RawResponse> {
    let status_line = read_line(s, buf)?;
    let mut parts = status_line.splitn(3, ' ');
    let _version = parts.next()?;
    let status: u16 = parts.next()?.parse().ok()?;
    let reason = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let line = read_line(s, buf)?;
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut resp = RawResponse { status, reason, headers, body: Vec::new() };
    if head_request || status == 204 || status == 304 || status < 200 {
        return Some(resp);
    }
    if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().ok()?;
        resp.body = read_exact_buf(s, buf, len)?;
    } else if resp.header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let size_line = read_line(s, buf)?;
            let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                while !read_line(s, buf)?.is_empty() {}
                break;
            }
            resp.body.extend(read_exact_buf(s, buf, size)?);
            read_line(s, buf)?;
        }
    } else {
        resp.body.append(buf);
        let _ = s.read_to_end(&mut resp.body);
    }
    Some(resp)
}

/// Sends raw bytes and reads one response.
pub fn roundtrip(s: &mut TcpStream, raw: &[u8]) -> Option<RawResponse> {
    s.write_all(raw).ok()?;
    let mut buf = Vec::new();
    read_response(s, &mut buf, raw.starts_with(b"HEAD "))
}

/// True when the peer closed the connection (EOF or reset) within the read timeout.
pub fn closed_by_peer(s: &mut TcpStream) -> bool {
    let mut tmp = [0u8; 1024];
    loop {
        match s.read(&mut tmp) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}
