//! One request on the Tokio side: limits, body, hand-over to the application, the answer.
//!
//! Owns: 413/408/431-adjacent checks that need the body, the request timeout (504), the
//! response body wrapper that keeps a request counted until its last byte is sent.
//! Does not own: header size limits (hyper answers 431 from its parser) or connection
//! timeouts (`conn`).
//!
//! Runs on Tokio threads only.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, ACCEPT_ENCODING, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Request, Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::answer::{shape, Outgoing, Shaped};
use super::body::StreamedBody;
use super::body_memory::BodyMemory;
use super::conn::{Activity, WireCap};
use super::exchange::{
    BodyError, BodyRoom, Dispatcher, IncomingRequest, Reply, RequestBody, RequestHead, ResponseStart,
    REFUSED_BODY_LINGER,
};
use super::fields::Headers;
use super::head_checks;
use super::incoming::DataFrames;
use super::multipart;
use super::static_files::{FileBody, StaticFiles, StaticReply};
use super::stats::Stats;
use super::stream::StreamAborted;
use crate::config::ServerConfig;
use crate::ops::error_pages::ErrorPages;
use crate::ops::{Gate, Own, Ticket};

/// State shared by every connection of one server.
pub struct ServerShared {
    pub config: Arc<ServerConfig>,
    /// Set when the server listens with TLS.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Set when a static directory is configured.
    pub static_files: Option<StaticFiles>,
    pub dispatcher: Arc<dyn Dispatcher>,
    pub stats: Arc<Stats>,
    pub next_request_id: AtomicU64,
    /// Health, metrics, access log, rate limit, trusted proxies, error pages.
    pub ops: crate::ops::Ops,
    /// A waiting event stream writer lends its socket to pushes (`ServerConfig::lend_stream_sockets`).
    pub lends_stream_sockets: bool,
}

/// State of one connection, shared by its requests.
pub struct ConnCtx {
    pub shared: Arc<ServerShared>,
    pub activity: Arc<Activity>,
    pub remote: SocketAddr,
    pub local: SocketAddr,
    pub tls: bool,
}

/// Keeps a request counted (on its connection and in `in_flight`) until the response is
/// completely sent or abandoned.
struct RequestGuard {
    activity: Arc<Activity>,
    stats: Arc<Stats>,
    dispatched: bool,
}

impl RequestGuard {
    fn new(activity: &Arc<Activity>, stats: &Arc<Stats>) -> Self {
        activity.request_started();
        Self { activity: Arc::clone(activity), stats: Arc::clone(stats), dispatched: false }
    }

    fn dispatched(&mut self) {
        self.dispatched = true;
        self.stats.in_flight.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if self.dispatched {
            self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        self.activity.request_finished();
    }
}

/// Boxed but for a whole body: hyper moves a response several times on its way to the
/// connection, and the rare kinds would make every move as large as they are.
enum Kind {
    Full(Option<Bytes>),
    Stream(Box<StreamedBody>),
    File(Box<FileBody>),
}

/// The body hyper sends. Carries the request guard so that a request stays "in flight"
/// until the last byte left (or the peer did).
pub struct ResponseBody {
    kind: Kind,
    complete: bool,
    guard: Option<RequestGuard>,
}

impl ResponseBody {
    /// A body not yet tied to its request: `handle` attaches the guard.
    fn new(kind: Kind) -> Self {
        Self { kind, complete: false, guard: None }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = StreamAborted;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamAborted>>> {
        let this = &mut *self;
        let out = match &mut this.kind {
            Kind::Full(b) => Poll::Ready(b.take().filter(|b| !b.is_empty()).map(|b| Ok(Frame::data(b)))),
            Kind::Stream(s) => Pin::new(&mut **s).poll_frame(cx),
            Kind::File(f) => match f.poll_chunk(cx) {
                Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                Poll::Ready(Some(Err(e))) => {
                    crate::warn!("reading a static file failed: {e}");
                    Poll::Ready(Some(Err(StreamAborted)))
                }
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        };
        if matches!(out, Poll::Ready(None)) {
            this.complete = true;
        }
        out
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            Kind::Stream(s) => s.is_end_stream(),
            Kind::File(f) => f.remaining() == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream(_) => SizeHint::default(),
            Kind::File(f) => SizeHint::with_exact(f.remaining()),
        }
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        if let (Kind::Stream(s), false) = (&self.kind, self.complete) {
            if !s.is_end_stream() {
                if let Some(g) = &self.guard {
                    g.stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// An answer the server gives itself, as plain text: an error status, and whether the
/// connection closes after it (an unread body may still be on the way).
struct Plain {
    status: StatusCode,
    close: bool,
}

impl Plain {
    fn closing(status: StatusCode) -> Self {
        Self { status, close: true }
    }

    fn keeping(status: StatusCode) -> Self {
        Self { status, close: false }
    }

    /// The answer, with the error page of its status when there is one.
    fn into_response(self, version: Version, pages: &ErrorPages) -> Response<ResponseBody> {
        let status = self.status;
        let (content_type, body) = pages.body(status);
        let mut resp = Response::new(ResponseBody::new(Kind::Full(Some(body))));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, content_type);
        if self.close && version < Version::HTTP_2 {
            h.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Copies the request head out of hyper's read buffer. Header values and the URI are
/// slices of that buffer, and while one of them lives, hyper's next read (it reads on
/// while a response is written, to notice a closed connection) needs a fresh 8 KiB buffer:
/// for as long as the request lives — an event stream's whole life. One copy of the head's
/// few hundred bytes instead, into one buffer: the values, then the URI's authority and
/// path (an HTTP/2 request has both; re-parsing the URI from its text was ~1,000
/// instructions a request).
fn detach_head(parts: &mut http::request::Parts) {
    let authority = parts.uri.authority().map(|a| a.as_str().as_bytes());
    // A lone "/" is the http crate's static one, not a slice of the buffer.
    let path = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().as_bytes())
        .filter(|pq| *pq != b"/" || authority.is_some());
    let (has_authority, has_path) = (authority.is_some(), path.is_some());
    let uri_len = authority.map_or(0, <[u8]>::len) + path.map_or(0, <[u8]>::len);
    let total: usize = parts.headers.values().map(|v| v.len()).sum::<usize>() + uri_len;
    let mut buf = BytesMut::with_capacity(total);
    for v in parts.headers.values() {
        buf.extend_from_slice(v.as_bytes());
    }
    let values_end = buf.len();
    buf.extend_from_slice(authority.unwrap_or_default());
    let authority_end = buf.len();
    buf.extend_from_slice(path.unwrap_or_default());
    let all = buf.freeze();
    let mut at = 0;
    for v in parts.headers.values_mut() {
        let len = v.len();
        let sensitive = v.is_sensitive();
        // SAFETY: the same bytes as a value hyper has validated.
        *v = unsafe { HeaderValue::from_maybe_shared_unchecked(all.slice(at..at + len)) };
        v.set_sensitive(sensitive);
        at += len;
    }
    if uri_len > 0 {
        // The same bytes as the parts hyper parsed, so each parses again; a part that did
        // not would keep its original, and so would a URI that did not go back together.
        let uri = &parts.uri;
        let mut copy = http::uri::Parts::default();
        copy.scheme = uri.scheme().cloned();
        copy.authority = has_authority
            .then(|| http::uri::Authority::from_maybe_shared(all.slice(values_end..authority_end)).ok())
            .flatten()
            .or_else(|| uri.authority().cloned());
        copy.path_and_query = has_path
            .then(|| http::uri::PathAndQuery::from_maybe_shared(all.slice(authority_end..)).ok())
            .flatten()
            .or_else(|| uri.path_and_query().cloned());
        if let Ok(uri) = http::Uri::from_parts(copy) {
            parts.uri = uri;
        }
    }
}

/// Reads a whole body, bounded in size and time and by the room all bodies share.
async fn read_body(frames: &mut DataFrames<'_>, memory: &mut BodyMemory<'_>) -> Result<Bytes, BodyError> {
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let ceiling = frames.ceiling();
    while let Some(data) = frames.next().await? {
        // One frame (the common case) is kept without a copy. The room the body takes is
        // that frame's, then its buffer's capacity, taken before the buffer grows.
        if buf.is_empty() && first.is_none() {
            if !memory.hold(data.len() as u64) {
                return Err(BodyError::NoRoom);
            }
            first = Some(data);
            continue;
        }
        let earlier = first.take();
        let more = earlier.as_ref().map_or(0, Bytes::len) + data.len();
        if !memory.grow(&mut buf, more, ceiling) {
            return Err(BodyError::NoRoom);
        }
        buf.extend_from_slice(earlier.as_deref().unwrap_or_default());
        buf.extend_from_slice(&data);
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

fn body_error_status(e: &BodyError, stats: &Stats) -> StatusCode {
    match e {
        BodyError::TooLarge | BodyError::TooManyFiles | BodyError::TooManyFields => {
            stats.body_too_large.fetch_add(1, Ordering::Relaxed);
            StatusCode::PAYLOAD_TOO_LARGE
        }
        BodyError::Timeout => {
            stats.body_timeouts.fetch_add(1, Ordering::Relaxed);
            StatusCode::REQUEST_TIMEOUT
        }
        BodyError::Malformed(_) | BodyError::Io(_) => {
            stats.bad_requests.fetch_add(1, Ordering::Relaxed);
            StatusCode::BAD_REQUEST
        }
        BodyError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        BodyError::NoRoom => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn static_response(reply: StaticReply) -> Result<Response<ResponseBody>, Plain> {
    let (status, headers, kind) = match reply {
        StaticReply::NotFound => return Err(Plain::keeping(StatusCode::NOT_FOUND)),
        StaticReply::Empty(status, headers) => (status, headers, Kind::Full(None)),
        StaticReply::Bytes(status, headers, b) => (status, headers, Kind::Full(Some(b))),
        StaticReply::File { status, headers, path, offset, len } => {
            (status, headers, Kind::File(Box::new(FileBody::new(path, offset, len))))
        }
    };
    let mut resp = Response::new(ResponseBody::new(kind));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    Ok(resp)
}

/// A request's ticket while its answer is awaited. hyper drops the service's future when
/// the client resets the stream or closes the connection: the request is then logged and
/// counted as one whose client left (499).
struct Awaited<'a> {
    ops: &'a crate::ops::Ops,
    ticket: Option<Box<Ticket>>,
}

impl Drop for Awaited<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.ops.client_left(ticket);
        }
    }
}

/// hyper's service function.
pub async fn handle(req: Request<Incoming>, ctx: Arc<ConnCtx>) -> Result<Response<ResponseBody>, Infallible> {
    let stats = &ctx.shared.stats;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    let mut guard = RequestGuard::new(&ctx.activity, stats);
    let (mut parts, body) = req.into_parts();
    detach_head(&mut parts);
    let version = parts.version;
    let ops = &ctx.shared.ops;
    let mut awaited = Awaited { ops, ticket: None };
    let mut resp = match respond(parts, body, &ctx, &mut guard, &mut awaited.ticket).await {
        Ok(resp) => resp,
        Err(plain) => plain.into_response(version, &ops.pages),
    };
    if ops.active() {
        ops.answered(awaited.ticket.take(), resp.status(), resp.body().size_hint().exact());
    }
    // The request stays counted until hyper has sent this body, or dropped it.
    resp.body_mut().guard = Some(guard);
    Ok(resp)
}

/// An answer `ops` gave (health, metrics, 429).
fn own_response(own: Own) -> Response<ResponseBody> {
    let mut resp = Response::new(ResponseBody::new(Kind::Full(Some(own.body))));
    *resp.status_mut() = own.status;
    *resp.headers_mut() = own.headers.into_map();
    resp
}

/// The answer to one request: refused on its head, the runtime's own (`ops`), a static
/// file, or the application's.
async fn respond(
    mut parts: http::request::Parts,
    body: Incoming,
    ctx: &ConnCtx,
    guard: &mut RequestGuard,
    ticket: &mut Option<Box<Ticket>>,
) -> Result<Response<ResponseBody>, Plain> {
    let shared = &ctx.shared;
    let stats = &shared.stats;
    let checked = head_checks::check_host(parts.version, &parts.headers)
        .and_then(|()| head_checks::check_transfer_encoding(&parts.headers));
    if let Err(refusal) = checked {
        crate::debug!("request from {} refused: {}", ctx.remote, refusal.reason);
        stats.bad_requests.fetch_add(1, Ordering::Relaxed);
        return Err(Plain::closing(refusal.status));
    }

    // The fields as the application gets them (a map already: hyper parsed them).
    let headers = Headers::from_map(std::mem::take(&mut parts.headers));
    if shared.ops.active() {
        let head = (&parts.method, &parts.uri, parts.version, &headers);
        match shared.ops.admit(shared, head, ctx.remote) {
            Gate::Answer(own) => return Ok(own_response(own)),
            Gate::Pass(t) => *ticket = t,
        }
    }

    if let Some(files) = &shared.static_files {
        if let Some(reply) = files.serve(&parts.method, parts.uri.path(), headers.map()) {
            stats.static_hits.fetch_add(1, Ordering::Relaxed);
            return static_response(reply);
        }
    }

    let max_body_size = shared.config.limits.max_body_size;
    if content_length(headers.map()).is_some_and(|n| n > max_body_size) {
        stats.body_too_large.fetch_add(1, Ordering::Relaxed);
        if !headers.contains(&http::header::EXPECT) {
            linger(parts.version, body, max_body_size, None);
        }
        return Err(Plain::closing(StatusCode::PAYLOAD_TOO_LARGE));
    }

    let accept_encoding = headers.first(&ACCEPT_ENCODING);
    let is_head = parts.method == http::Method::HEAD;
    let version = parts.version;
    // The request in the box it is handed over in, from here on: the futures below hold a
    // pointer, not its ~600 bytes, and nothing copies it again (hyper moves this future
    // into a task of its own for every HTTP/2 stream).
    let ticket = ticket.as_deref();
    let mut incoming = Box::new(IncomingRequest {
        head: RequestHead {
            id: shared.next_request_id.fetch_add(1, Ordering::Relaxed) + 1,
            method: parts.method,
            uri: parts.uri,
            version,
            headers,
            remote: ticket.map_or(ctx.remote, |t| t.client),
            local: ctx.local,
            tls: ctx.tls,
            trace: ticket.and_then(Ticket::trace),
        },
        body: RequestBody::Empty,
        body_room: BodyRoom::default(),
        reply: Reply::default(),
    });
    (incoming.body, incoming.body_room) =
        read_request_body(incoming.head.headers.map(), version, body, ctx).await?;
    guard.dispatched();
    let start = ask_application(incoming, ctx).await?;
    Ok(application_response(start, version, is_head, accept_encoding.as_ref(), shared))
}

/// The body as the application gets it (empty, whole, or multipart with spooled files),
/// and the room it takes of `max_body_memory`.
async fn read_request_body(
    headers: &HeaderMap,
    version: Version,
    mut body: Incoming,
    ctx: &ConnCtx,
) -> Result<(RequestBody, BodyRoom), Plain> {
    let config = &ctx.shared.config;
    let limits = &config.limits;
    if body.is_end_stream() {
        return Ok((RequestBody::Empty, BodyRoom::default()));
    }
    let multipart_boundary = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|ct| ct.len() >= 19 && ct[..19].eq_ignore_ascii_case("multipart/form-data"))
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let mut memory = BodyMemory::new(&ctx.shared.stats, limits.body_memory());
    // HTTP/1.1 through hyper: what a body without a length takes off the wire, bounded.
    let cap = DataFrames::needs_cap(&body, version).then(|| WireCap::new(&ctx.activity));
    let deadline = tokio::time::Instant::now() + limits.body_timeout;
    let mut frames = DataFrames::new(&mut body, limits.max_body_size, deadline, cap.as_ref());
    let read = match multipart_boundary {
        Some(boundary) => {
            let dir = config.upload_dir.clone().unwrap_or_else(std::env::temp_dir);
            // Boxed: a rare path, whose state every request's future would carry
            // otherwise (hyper moves that future into each HTTP/2 stream's task).
            Box::pin(multipart::spool(frames, boundary, limits, &dir, &mut memory)).await
        }
        None => read_body(&mut frames, &mut memory).await.map(|b| {
            if b.is_empty() {
                RequestBody::Empty
            } else {
                RequestBody::Bytes(b)
            }
        }),
    };
    match read {
        Ok(read) => Ok((read, memory.into_room())),
        Err(e) => {
            crate::debug!("request from {}: {e}", ctx.remote);
            if e.before_its_end() {
                linger(version, body, limits.max_body_size, cap);
            }
            Err(Plain::closing(body_error_status(&e, &ctx.shared.stats)))
        }
    }
}

/// What the client still sends of a body refused before its end, read and dropped for at
/// most `REFUSED_BODY_LINGER` and `left` bytes (HTTP/1.1). hyper closes the connection
/// after the answer when it cannot drop the rest of the body at once. HTTP/2 needs none of
/// this: the stream's reset with NO_ERROR after the answer stops the upload (RFC 9113 §8.1).
/// A chunked body's `cap` on its framing goes on while it is dropped.
fn linger(version: Version, mut body: Incoming, mut left: u64, cap: Option<WireCap>) {
    if version >= Version::HTTP_2 {
        return;
    }
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + REFUSED_BODY_LINGER;
        while left > 0 {
            let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await else { return };
            let n = frame.data_ref().map_or(0, |d| d.len() as u64);
            left = left.saturating_sub(n);
            if let Some(cap) = &cap {
                cap.took(n);
            }
        }
    });
}

/// Hands the request to the application and waits for the start of its response, at most
/// the request timeout.
async fn ask_application(mut incoming: Box<IncomingRequest>, ctx: &ConnCtx) -> Result<ResponseStart, Plain> {
    let shared = &ctx.shared;
    let rx;
    (incoming.reply, rx) = Reply::new();
    if shared.dispatcher.dispatch(incoming).is_err() {
        return Err(Plain::closing(StatusCode::SERVICE_UNAVAILABLE));
    }
    let answer = match shared.config.limits.request_timeout {
        Some(t) => tokio::time::timeout(t, rx).await.map_err(|_| {
            shared.stats.request_timeouts.fetch_add(1, Ordering::Relaxed);
            Plain::keeping(StatusCode::GATEWAY_TIMEOUT)
        })?,
        None => rx.await,
    };
    answer.map_err(|_| {
        shared.stats.unanswered.fetch_add(1, Ordering::Relaxed);
        Plain::keeping(shared.ops.unanswered_status())
    })
}

/// The application's response as hyper sends it (`answer::shape`), with the reason phrase
/// it chose (HTTP/1 only).
fn application_response(
    start: ResponseStart,
    version: Version,
    is_head: bool,
    accept_encoding: Option<&HeaderValue>,
    shared: &ServerShared,
) -> Response<ResponseBody> {
    let Shaped { status, reason, headers, body, .. } =
        shape(start, is_head, accept_encoding, &shared.config, &shared.stats);
    let kind = match body {
        Outgoing::Full(b) => Kind::Full(Some(b)),
        Outgoing::Stream(s) => Kind::Stream(Box::new(s)),
    };
    let mut resp = Response::new(ResponseBody::new(kind));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers.into_map();
    let reason = reason.filter(|_| version < Version::HTTP_2);
    if let Some(r) = reason.and_then(|reason| hyper::ext::ReasonPhrase::try_from(reason).ok()) {
        resp.extensions_mut().insert(r);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_head_shares_nothing_with_the_read_buffer() {
        let read_buf = Bytes::from_static(b"/events?x=1 text/event-stream secret").to_vec();
        let read_buf = Bytes::from(read_buf);
        let mut parts = Request::builder().body(()).unwrap().into_parts().0;
        parts.uri = http::Uri::from_maybe_shared(read_buf.slice(0..11)).unwrap();
        parts.headers.insert("accept", HeaderValue::from_maybe_shared(read_buf.slice(12..29)).unwrap());
        let mut secret = HeaderValue::from_maybe_shared(read_buf.slice(30..36)).unwrap();
        secret.set_sensitive(true);
        parts.headers.insert("x-secret", secret);
        assert!(!read_buf.is_unique());

        detach_head(&mut parts);

        assert!(read_buf.is_unique(), "the head still points into the read buffer");
        assert_eq!(parts.uri, "/events?x=1");
        assert_eq!(parts.headers["accept"], "text/event-stream");
        assert_eq!(parts.headers["x-secret"], "secret");
        assert!(parts.headers["x-secret"].is_sensitive());
    }

    /// An HTTP/2 request's URI has an authority (and a scheme): both come out whole, and
    /// out of the read buffer, whatever the path.
    #[test]
    fn a_uri_with_an_authority_is_detached_whole() {
        for text in ["https://example.com:8443/a/b?c=d", "http://127.0.0.1:8080/", "http://[::1]:80/x"] {
            let read_buf = Bytes::from(format!("{text} v").into_bytes());
            let mut parts = Request::builder().body(()).unwrap().into_parts().0;
            parts.uri = http::Uri::from_maybe_shared(read_buf.slice(0..text.len())).unwrap();
            parts
                .headers
                .insert("x-v", HeaderValue::from_maybe_shared(read_buf.slice(text.len() + 1..)).unwrap());
            assert!(!read_buf.is_unique());

            detach_head(&mut parts);

            assert!(read_buf.is_unique(), "{text}: the head still points into the read buffer");
            assert_eq!(parts.uri, text);
            assert_eq!(parts.uri.scheme(), text.parse::<http::Uri>().unwrap().scheme());
            assert_eq!(parts.headers["x-v"], "v");
        }
    }
}
