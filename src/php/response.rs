//! `Via\Response`: status, headers, cookies, a whole body or a stream.
//!
//! Owns: the response state machine (pending → streaming → ended), what happens when a
//! handler returns without ending (explicit status → that status, else 500 with a log
//! line), what an exception means for a response (500, or an aborted stream), and write
//! backpressure (a writer that outpaces its client waits for the queue to drain).
//! Does not own: the bytes on the wire (the HTTP core frames, chunks and compresses).
//!
//! PHP thread only. No `RefCell` borrow of a core is held across a call into PHP or a
//! suspension.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{HeaderMap, StatusCode};

use super::args::{Array, Bool, ByteStr, Int};
use super::errors::{type_name, value_err, via_err};
use super::runtime::{self, Wake};
use crate::config::SseConfig;
use crate::http::cookie::{self, CookieOptions, SameSite};
use crate::http::encoding::CompressionConfig;
use crate::http::{Dispatcher, Reply, ResponseBodySource, ResponseStart, Stats, StreamShared, Topics};

/// Above this many queued bytes `write()` waits for the client to catch up.
pub const WRITE_HIGH_WATER: usize = 1024 * 1024;
/// … and resumes once the queue is down to this.
pub const WRITE_LOW_WATER: usize = 256 * 1024;

enum Phase {
    Pending,
    Streaming(Arc<StreamShared>),
    Ended,
}

/// What the responses of a running server use of it.
pub struct Services {
    pub events: Arc<dyn Dispatcher>,
    pub stats: Arc<Stats>,
    pub topics: TopicsRef,
    pub sse: SseConfig,
    pub compression: CompressionConfig,
}

/// Where topics live: in this process (one process), or in the master (a worker).
#[derive(Clone)]
pub enum TopicsRef {
    Local(Arc<Topics>),
    Remote(Arc<crate::workers::link::Link>),
}

impl TopicsRef {
    pub fn join(&self, topic: &str, stream: &Arc<crate::http::StreamShared>) {
        match self {
            Self::Local(t) => {
                t.join(topic, stream);
            }
            Self::Remote(link) => {
                link.send(crate::ipc::ToMaster::Join {
                    stream: stream.id(),
                    topic: bytes::Bytes::from(topic.to_owned()),
                });
            }
        }
    }

    pub fn leave(&self, topic: &str, stream_id: u64) {
        match self {
            Self::Local(t) => {
                t.leave(topic, stream_id);
            }
            Self::Remote(link) => {
                link.send(crate::ipc::ToMaster::Leave {
                    stream: stream_id,
                    topic: bytes::Bytes::from(topic.to_owned()),
                });
            }
        }
    }
}

/// Request headers an event stream needs.
#[derive(Default)]
pub struct StreamContext {
    pub last_event_id: Option<HeaderValue>,
    pub accept_encoding: Option<HeaderValue>,
}

pub struct ResponseCore {
    pub(crate) status: StatusCode,
    reason: Option<Bytes>,
    status_set: bool,
    pub(crate) headers: HeaderMap,
    phase: Phase,
    reply: Option<Reply>,
    pub(crate) services: Option<Rc<Services>>,
    pub(crate) stream_context: StreamContext,
    /// A detached response keeps its body for inspection.
    captured: Vec<u8>,
    task_running: bool,
    /// Method and target, for log lines (formatted only when something is logged).
    origin: Option<(http::Method, http::Uri)>,
}

impl ResponseCore {
    pub fn bound(
        reply: Reply,
        services: Rc<Services>,
        method: http::Method,
        uri: http::Uri,
        stream_context: StreamContext,
    ) -> Self {
        Self {
            reply: Some(reply),
            services: Some(services),
            stream_context,
            task_running: true,
            origin: Some((method, uri)),
            ..Self::detached()
        }
    }

    /// `METHOD /target` for log lines.
    fn label(&self) -> String {
        match &self.origin {
            Some((m, u)) => format!("{m} {}", u.path_and_query().map_or("/", |p| p.as_str())),
            None => "detached response".into(),
        }
    }

    fn detached() -> Self {
        Self {
            status: StatusCode::OK,
            reason: None,
            status_set: false,
            headers: HeaderMap::new(),
            phase: Phase::Pending,
            reply: None,
            services: None,
            stream_context: StreamContext::default(),
            captured: Vec::new(),
            task_running: false,
            origin: None,
        }
    }

    pub(crate) fn is_detached(&self) -> bool {
        self.services.is_none()
    }

    /// Sends status and headers. A detached response keeps them for inspection.
    pub(crate) fn start(&mut self, body: ResponseBodySource) -> bool {
        let Some(reply) = self.reply.take() else { return self.is_detached() };
        let start = ResponseStart {
            status: self.status,
            reason: self.reason.take(),
            headers: std::mem::take(&mut self.headers),
            body,
        };
        runtime::send_reply(reply, start)
    }

    pub(crate) fn headers_sent(&self) -> bool {
        !matches!(self.phase, Phase::Pending)
    }

    /// Starts a streamed body (an event stream when `heartbeat` is set). `false` when
    /// the client is already gone.
    pub(crate) fn start_stream(
        &mut self,
        stream: Arc<StreamShared>,
        heartbeat: Option<std::time::Duration>,
    ) -> bool {
        let ok = self.start(ResponseBodySource::Stream { stream: Arc::clone(&stream), heartbeat });
        self.phase = Phase::Streaming(stream);
        ok
    }

    /// A detached response becomes a stream whose chunks are captured.
    pub(crate) fn mark_streaming_detached(&mut self) {
        self.phase = Phase::Streaming(StreamShared::new(NoEvents::shared()));
    }

    pub(crate) fn capture(&mut self, bytes: &[u8]) {
        self.captured.extend_from_slice(bytes);
    }

    /// Sends status and headers with `body` and ends. `false` when the client is gone.
    fn send_full(&mut self, body: Bytes) -> bool {
        self.headers.remove(CONTENT_LENGTH);
        if self.is_detached() {
            self.captured.extend_from_slice(&body);
        }
        let ok = self.start(ResponseBodySource::Full(body));
        self.phase = Phase::Ended;
        ok
    }

    fn send_error(&mut self, status: StatusCode) {
        self.status = status;
        self.reason = None;
        self.headers.clear();
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        let text = format!("{} {}\n", status.as_u16(), status.canonical_reason().unwrap_or(""));
        self.send_full(Bytes::from(text));
    }

    fn is_writable(&self) -> bool {
        match &self.phase {
            Phase::Pending => self.is_detached() || self.reply.as_ref().is_some_and(Reply::is_open),
            Phase::Streaming(s) => !s.is_closed(),
            Phase::Ended => false,
        }
    }
}

/// A response whose handler returned (or whose object died) without `end()`.
fn finalize_default(core: &Rc<RefCell<ResponseCore>>) {
    let mut c = core.borrow_mut();
    match &c.phase {
        Phase::Pending if c.reply.is_none() => {}
        Phase::Pending if c.status_set => {
            c.send_full(Bytes::new());
        }
        Phase::Pending => {
            crate::warn!("{}: the handler returned without calling end(); answering 500", c.label());
            c.send_error(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Phase::Streaming(s) => {
            s.finish();
            c.phase = Phase::Ended;
        }
        Phase::Ended => {}
    }
}

/// The request task ended; `exception` is what its handler threw.
pub fn task_finished(core: &Rc<RefCell<ResponseCore>>, exception: Option<&Zval>) {
    core.borrow_mut().task_running = false;
    if let Some(e) = exception {
        let label = core.borrow().label();
        crate::error!("{label}: the handler threw {}", runtime::describe_throwable(e));
        abandon(core);
    } else if Rc::strong_count(core) == 1 {
        finalize_default(core);
    }
}

/// Fails a response: 500 if nothing was sent, a reset if a stream was under way.
pub fn abandon(core: &Rc<RefCell<ResponseCore>>) {
    let mut c = core.borrow_mut();
    match &c.phase {
        Phase::Pending => c.send_error(StatusCode::INTERNAL_SERVER_ERROR),
        Phase::Streaming(s) => {
            s.abort();
            c.phase = Phase::Ended;
        }
        Phase::Ended => {}
    }
}

/// An HTTP response. Obtained in a request handler; `new Via\Response()` makes a detached
/// one (no connection) whose status, headers and body can be inspected, for tests.
#[php_class]
#[php(name = "Via\\Response")]
#[php(flags = ClassFlags::Final)]
pub struct Response {
    pub(crate) core: Rc<RefCell<ResponseCore>>,
}

impl Response {
    pub fn from_core(core: Rc<RefCell<ResponseCore>>) -> Self {
        Self { core }
    }

    fn unsent(&self, method: &str) -> PhpResult<()> {
        match self.core.borrow().phase {
            Phase::Pending => Ok(()),
            _ => Err(via_err(format!(
                "Via\\Response::{method}(): headers were already sent; set status, headers and cookies before the first write()"
            ))),
        }
    }

    /// Waits while more than the high-water mark is queued for a slow client.
    fn backpressure(stream: &Arc<StreamShared>, queued: usize) {
        if queued <= WRITE_HIGH_WATER {
            return;
        }
        let Ok(waiter) = runtime::waiter() else { return };
        if !stream.notify_when_drained(WRITE_LOW_WATER) {
            return;
        }
        runtime::wait_for_stream(stream.id(), waiter);
        match runtime::park(waiter, None) {
            Ok(Wake::Drained) | Ok(Wake::Closed) | Ok(_) => {}
            Err(_) => {}
        }
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        let running = self.core.borrow().task_running;
        if !running {
            finalize_default(&self.core);
        }
    }
}

fn header_name(bytes: &[u8], what: &str) -> PhpResult<HeaderName> {
    HeaderName::from_bytes(bytes).map_err(|_| {
        value_err(format!(
            "{what} must be a valid header name (RFC 9110 token), \"{}\" given",
            String::from_utf8_lossy(bytes)
        ))
    })
}

fn header_value(bytes: &[u8], what: &str) -> PhpResult<HeaderValue> {
    HeaderValue::from_bytes(bytes).map_err(|_| value_err(format!("{what} must not contain CR, LF or NUL")))
}

fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn cookie_options(options: Option<Array>) -> PhpResult<CookieOptions> {
    const WHAT: &str = "Via\\Response::cookie(): Argument #3 ($options)";
    let mut o = CookieOptions::default();
    let Some(options) = options else { return Ok(o) };
    for (key, value) in options.iter() {
        let key = key.to_string();
        let want_bool = |v: &Zval| -> PhpResult<bool> {
            v.bool()
                .ok_or_else(|| value_err(format!("{WHAT} \"{key}\" must be a bool, {} given", type_name(v))))
        };
        let want_string = |v: &Zval| -> PhpResult<String> {
            let s = v.zend_str().ok_or_else(|| {
                value_err(format!("{WHAT} \"{key}\" must be a string, {} given", type_name(v)))
            })?;
            std::str::from_utf8(s.as_bytes())
                .map(str::to_owned)
                .map_err(|_| value_err(format!("{WHAT} \"{key}\" must be valid UTF-8")))
        };
        let want_int = |v: &Zval| -> PhpResult<i64> {
            v.long()
                .ok_or_else(|| value_err(format!("{WHAT} \"{key}\" must be an int, {} given", type_name(v))))
        };
        match key.to_ascii_lowercase().as_str() {
            "expires" => o.expires = want_int(value)?,
            "max_age" | "max-age" => o.max_age = Some(want_int(value)?),
            "path" => o.path = want_string(value)?,
            "domain" => o.domain = want_string(value)?,
            "secure" => o.secure = want_bool(value)?,
            "httponly" => o.http_only = want_bool(value)?,
            "samesite" => {
                let s = want_string(value)?;
                o.same_site = Some(SameSite::parse(&s).ok_or_else(|| {
                    value_err(format!("{WHAT} \"samesite\" must be \"Strict\", \"Lax\" or \"None\", \"{s}\" given"))
                })?);
            }
            "partitioned" => o.partitioned = want_bool(value)?,
            "raw" => o.raw = want_bool(value)?,
            _ => {
                return Err(value_err(format!(
                    "{WHAT} has an unknown key \"{key}\"; known keys are expires, max_age, path, domain, secure, httponly, samesite, partitioned, raw"
                )))
            }
        }
    }
    Ok(o)
}

#[php_impl]
impl Response {
    /// Creates a detached response that is not connected to a client. Everything it
    /// is given can be read back with getStatus(), getHeaders() and getBody().
    pub fn __construct() -> Self {
        Self { core: Rc::new(RefCell::new(ResponseCore::detached())) }
    }

    /// Sets the status code (200–999) and optionally a reason phrase. The reason is bytes,
    /// written as given on HTTP/1.1 (any byte but control characters: CR, LF, NUL…; tab
    /// is allowed); HTTP/2 has no reason phrase.
    ///
    /// @throws \ValueError for a code outside 200–999 or a reason with control characters
    /// @throws \Via\Exception once headers were sent
    pub fn status<'a>(
        self_: &'a mut ZendClassObject<Response>,
        code: Int,
        reason: Option<ByteStr>,
    ) -> PhpResult<&'a mut ZendClassObject<Response>> {
        let code = *code;
        self_.unsent("status")?;
        let status = u16::try_from(code)
            .ok()
            .filter(|c| (200..=999).contains(c))
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or_else(|| {
                value_err(format!(
                    "Via\\Response::status(): Argument #1 ($code) must be between 200 and 999, {code} given"
                ))
            })?;
        let reason = match reason {
            Some(r) if r.iter().any(|&b| b != b'\t' && (b < 0x20 || b == 0x7f)) => {
                return Err(value_err(
                    "Via\\Response::status(): Argument #2 ($reason) must not contain control characters",
                ))
            }
            Some(r) => Some(Bytes::copy_from_slice(&r)),
            None => None,
        };
        {
            let mut c = self_.core.borrow_mut();
            c.status = status;
            c.reason = reason;
            c.status_set = true;
        }
        Ok(self_)
    }

    /// The status code set so far (200 by default).
    pub fn get_status(&self) -> i64 {
        i64::from(self.core.borrow().status.as_u16())
    }

    /// Sets a header, replacing earlier values of the same name unless $replace is false
    /// (then the value is added: repeated headers such as Set-Cookie).
    ///
    /// @throws \ValueError for an invalid name or a value with CR, LF or NUL
    /// @throws \Via\Exception once headers were sent
    #[php(defaults(replace = true))]
    pub fn header<'a>(
        self_: &'a mut ZendClassObject<Response>,
        name: ByteStr,
        value: ByteStr,
        replace: Bool,
    ) -> PhpResult<&'a mut ZendClassObject<Response>> {
        let replace = *replace;
        self_.unsent("header")?;
        let name = header_name(&name, "Via\\Response::header(): Argument #1 ($name)")?;
        let value = header_value(&value, "Via\\Response::header(): Argument #2 ($value)")?;
        {
            let mut c = self_.core.borrow_mut();
            if replace {
                c.headers.insert(name, value);
            } else {
                c.headers.append(name, value);
            }
        }
        Ok(self_)
    }

    /// Removes every value of a header.
    ///
    /// @throws \Via\Exception once headers were sent
    pub fn remove_header<'a>(
        self_: &'a mut ZendClassObject<Response>,
        name: ByteStr,
    ) -> PhpResult<&'a mut ZendClassObject<Response>> {
        self_.unsent("removeHeader")?;
        let name = header_name(&name, "Via\\Response::removeHeader(): Argument #1 ($name)")?;
        self_.core.borrow_mut().headers.remove(name);
        Ok(self_)
    }

    /// The values of one header joined with ", ", or null.
    pub fn get_header(&self, name: ByteStr) -> PhpResult<Option<String>> {
        let name = header_name(&name, "Via\\Response::getHeader(): Argument #1 ($name)")?;
        let c = self.core.borrow();
        let values: Vec<String> = c
            .headers
            .get_all(&name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        Ok((!values.is_empty()).then(|| values.join(", ")))
    }

    /// All headers not yet sent: lower-case name => list of values.
    pub fn get_headers(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let c = self.core.borrow();
        super::convert::header_map(&c.headers, false)
    }

    /// Adds a Set-Cookie header. Options: expires (Unix time), max_age, path, domain,
    /// secure, httponly, samesite ("Strict"|"Lax"|"None"), partitioned, raw (send the
    /// value without URL-encoding). An empty value deletes the cookie, as setcookie() does.
    ///
    /// @throws \ValueError for an invalid name, value or option
    /// @throws \Via\Exception once headers were sent
    pub fn cookie<'a>(
        self_: &'a mut ZendClassObject<Response>,
        name: ByteStr,
        value: Option<ByteStr>,
        options: Option<Array>,
    ) -> PhpResult<&'a mut ZendClassObject<Response>> {
        self_.unsent("cookie")?;
        let value: &[u8] = value.as_deref().unwrap_or_default();
        let options = cookie_options(options)?;
        let line = cookie::build(&name, value, &options, now_unix())
            .map_err(|e| value_err(format!("Via\\Response::cookie(): {e}")))?;
        let v =
            HeaderValue::from_str(&line).map_err(|_| value_err("Via\\Response::cookie(): invalid cookie"))?;
        self_.core.borrow_mut().headers.append(SET_COOKIE, v);
        Ok(self_)
    }

    /// Sends a chunk at once: status and headers go out with the first write (chunked on
    /// HTTP/1.1, DATA frames on HTTP/2). Waits (inside a task) while a slow client has
    /// more than 1 MiB queued. Returns false once the client is gone.
    ///
    /// @throws \Via\Exception after end()
    pub fn write(&self, data: ByteStr) -> PhpResult<bool> {
        let chunk = Bytes::copy_from_slice(&data);
        let stream = {
            let mut c = self.core.borrow_mut();
            match &c.phase {
                Phase::Ended => {
                    return Err(via_err("Via\\Response::write(): the response has already ended"));
                }
                Phase::Streaming(s) => Arc::clone(s),
                Phase::Pending if c.is_detached() => {
                    c.captured.extend_from_slice(&chunk);
                    c.phase = Phase::Streaming(StreamShared::new(NoEvents::shared()));
                    return Ok(true);
                }
                Phase::Pending => {
                    let events =
                        c.services.as_ref().map_or_else(|| NoEvents::shared(), |s| Arc::clone(&s.events));
                    let s = StreamShared::new(events);
                    if !c.start(ResponseBodySource::stream(Arc::clone(&s))) {
                        s.close();
                    }
                    c.phase = Phase::Streaming(Arc::clone(&s));
                    s
                }
            }
        };
        if self.core.borrow().is_detached() {
            self.core.borrow_mut().captured.extend_from_slice(&chunk);
            return Ok(true);
        }
        match stream.push(chunk) {
            Ok(queued) => {
                Self::backpressure(&stream, queued);
                Ok(!stream.is_closed())
            }
            Err(_) => Ok(false),
        }
    }

    /// Sends the last (or only) part of the body and ends the response. The handler may
    /// keep running afterwards (background work). Returns false if the client is gone.
    ///
    /// @throws \Via\Exception when the response has already ended
    pub fn end(&self, data: Option<ByteStr>) -> PhpResult<bool> {
        let body = data.map_or_else(Bytes::new, |d| Bytes::copy_from_slice(&d));
        let mut c = self.core.borrow_mut();
        match &c.phase {
            Phase::Ended => Err(via_err("Via\\Response::end(): the response has already ended")),
            Phase::Pending => Ok(c.send_full(body)),
            Phase::Streaming(s) => {
                let s = Arc::clone(s);
                if c.is_detached() {
                    c.captured.extend_from_slice(&body);
                    c.phase = Phase::Ended;
                    return Ok(true);
                }
                let ok = body.is_empty() || s.push(body).is_ok();
                s.finish();
                c.phase = Phase::Ended;
                Ok(ok && !s.is_closed())
            }
        }
    }

    /// Redirects: sets Location and the status (302 by default) and ends.
    ///
    /// @throws \ValueError for a status that is not 3xx or a URL with CR, LF or NUL
    /// @throws \Via\Exception once headers were sent
    #[php(defaults(status = 302))]
    pub fn redirect(&self, url: ByteStr, status: Int) -> PhpResult<bool> {
        let status = *status;
        self.unsent("redirect")?;
        let code = u16::try_from(status)
            .ok()
            .filter(|c| (300..=399).contains(c))
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or_else(|| {
                value_err(format!(
                    "Via\\Response::redirect(): Argument #2 ($status) must be a 3xx code, {status} given"
                ))
            })?;
        let location = header_value(&url, "Via\\Response::redirect(): Argument #1 ($url)")?;
        let mut c = self.core.borrow_mut();
        c.status = code;
        c.status_set = true;
        c.headers.insert(LOCATION, location);
        Ok(c.send_full(Bytes::new()))
    }

    /// Whether a write would still reach the client.
    pub fn is_writable(&self) -> bool {
        self.core.borrow().is_writable()
    }

    /// Whether status and headers were sent (after the first write() or end()).
    pub fn headers_sent(&self) -> bool {
        !matches!(self.core.borrow().phase, Phase::Pending)
    }

    /// Whether end() (or redirect()) was called.
    pub fn is_ended(&self) -> bool {
        matches!(self.core.borrow().phase, Phase::Ended)
    }

    /// Turns the response into a Server-Sent Events stream: sets Content-Type
    /// text/event-stream, Cache-Control no-cache and X-Accel-Buffering no, sends the headers
    /// at once, and returns the stream. $retry (ms) tells clients how long to wait before
    /// reconnecting. Compression (Brotli or gzip, as the client accepts), heartbeats and
    /// backpressure follow the server's options.
    ///
    /// @throws \Via\Exception once headers were sent
    pub fn sse(&self, retry: Option<Int>) -> PhpResult<super::sse::Sse> {
        let retry = match retry.map(|r| *r) {
            Some(r) if r < 0 => {
                return Err(value_err(format!(
                    "Via\\Response::sse(): Argument #1 ($retry) must be >= 0, {r} given"
                )))
            }
            r => r.map(|r| r as u64),
        };
        super::sse::open(Rc::clone(&self.core), retry)
    }

    /// The body written so far — detached responses only (a connected response does not
    /// keep what it sent).
    pub fn get_body(&self) -> Binary<u8> {
        Binary::from(self.core.borrow().captured.clone())
    }
}

/// Event sink for streams of detached responses: nobody listens.
pub(crate) struct NoEvents;

impl NoEvents {
    pub(crate) fn shared() -> Arc<dyn Dispatcher> {
        Arc::new(NoEvents)
    }
}

impl Dispatcher for NoEvents {
    fn dispatch(
        &self,
        req: Box<crate::http::IncomingRequest>,
    ) -> Result<(), Box<crate::http::IncomingRequest>> {
        Err(req)
    }
}

impl crate::http::StreamEvents for NoEvents {
    fn stream_event(&self, _: crate::http::StreamEvent) {}
}
