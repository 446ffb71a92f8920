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
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, ACCEPT_ENCODING, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Request, Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::body::StreamedBody;
use super::conn::Activity;
use super::encoding::{self, choose_coding, mark_encoded, Coding, StreamEncoder};
use super::exchange::{
    BodyError, Dispatcher, IncomingRequest, Reply, RequestBody, RequestHead, ResponseBodySource,
};
use super::framing;
use super::head_checks;
use super::multipart;
use super::static_files::{FileBody, StaticFiles, StaticReply};
use super::stats::Stats;
use super::stream::StreamAborted;
use crate::config::ServerConfig;

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

enum Kind {
    Full(Option<Bytes>),
    Stream(StreamedBody),
    File(FileBody),
}

/// The body hyper sends. Carries the request guard so that a request stays "in flight"
/// until the last byte left (or the peer did).
pub struct ResponseBody {
    kind: Kind,
    complete: bool,
    guard: Option<RequestGuard>,
}

impl ResponseBody {
    fn full(bytes: Bytes, guard: RequestGuard) -> Self {
        Self { kind: Kind::Full(Some(bytes)), complete: false, guard: Some(guard) }
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
            Kind::Stream(s) => Pin::new(s).poll_frame(cx),
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

fn plain(status: StatusCode, version: Version, close: bool, guard: RequestGuard) -> Response<ResponseBody> {
    let text = format!("{} {}\n", status.as_u16(), status.canonical_reason().unwrap_or(""));
    let mut resp = Response::new(ResponseBody::full(Bytes::from(text), guard));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if close && version < Version::HTTP_2 {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Reads a whole body, bounded in size and time.
/// Copies the request head out of hyper's read buffer. Header values and the URI are
/// slices of that buffer, and while one of them lives, hyper's next read (it reads on
/// while a response is written, to notice a closed connection) needs a fresh 8 KiB buffer:
/// for as long as the request lives — an event stream's whole life. One copy of the head's
/// few hundred bytes instead.
fn detach_head(parts: &mut http::request::Parts) {
    let total: usize = parts.headers.values().map(|v| v.len()).sum();
    let mut buf = BytesMut::with_capacity(total);
    for v in parts.headers.values() {
        buf.extend_from_slice(v.as_bytes());
    }
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
    if parts.uri.path_and_query().is_some_and(|pq| pq.as_str() != "/") || parts.uri.authority().is_some() {
        if let Ok(uri) = http::Uri::from_maybe_shared(Bytes::from(parts.uri.to_string())) {
            parts.uri = uri;
        }
    }
}

async fn read_body(mut body: Incoming, limit: u64, timeout: Duration) -> Result<Bytes, BodyError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut total: u64 = 0;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::Timeout),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(BodyError::Io(e.to_string())),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else { continue };
        total += data.len() as u64;
        if total > limit {
            return Err(BodyError::TooLarge);
        }
        // One frame (the common case) is kept without a copy.
        match first.take() {
            None if buf.is_empty() => first = Some(data),
            Some(f) => {
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&data);
            }
            None => buf.extend_from_slice(&data),
        }
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
    }
}

fn static_response(reply: StaticReply, version: Version, guard: RequestGuard) -> Response<ResponseBody> {
    let (status, headers, kind) = match reply {
        StaticReply::NotFound => return plain(StatusCode::NOT_FOUND, version, false, guard),
        StaticReply::Empty(status, headers) => (status, headers, Kind::Full(None)),
        StaticReply::Bytes(status, headers, b) => (status, headers, Kind::Full(Some(b))),
        StaticReply::File { status, headers, path, offset, len } => {
            (status, headers, Kind::File(FileBody::new(path, offset, len)))
        }
    };
    let mut resp = Response::new(ResponseBody { kind, complete: false, guard: Some(guard) });
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

/// hyper's service function.
pub async fn handle(req: Request<Incoming>, ctx: Arc<ConnCtx>) -> Result<Response<ResponseBody>, Infallible> {
    let shared = &ctx.shared;
    let stats = &shared.stats;
    let limits = &shared.config.limits;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    let mut guard = RequestGuard::new(&ctx.activity, stats);
    let (mut parts, body) = req.into_parts();
    detach_head(&mut parts);
    let version = parts.version;
    let accept_encoding = parts.headers.get(ACCEPT_ENCODING).cloned();
    let is_head = parts.method == http::Method::HEAD;

    let checked = head_checks::check_host(version, &parts.headers)
        .and_then(|()| head_checks::check_transfer_encoding(&parts.headers));
    if let Err(refusal) = checked {
        crate::debug!("request from {} refused: {}", ctx.remote, refusal.reason);
        stats.bad_requests.fetch_add(1, Ordering::Relaxed);
        return Ok(plain(refusal.status, version, true, guard));
    }

    if let Some(files) = &shared.static_files {
        if let Some(reply) = files.serve(&parts.method, parts.uri.path(), &parts.headers) {
            stats.static_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(static_response(reply, version, guard));
        }
    }

    if content_length(&parts.headers).is_some_and(|n| n > limits.max_body_size) {
        stats.body_too_large.fetch_add(1, Ordering::Relaxed);
        return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, version, true, guard));
    }

    let multipart_boundary = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|ct| ct.len() >= 19 && ct[..19].eq_ignore_ascii_case("multipart/form-data"))
        .and_then(|ct| multer::parse_boundary(ct).ok());

    let body = if body.is_end_stream() {
        RequestBody::Empty
    } else if let Some(boundary) = multipart_boundary {
        let dir = shared.config.upload_dir.clone().unwrap_or_else(std::env::temp_dir);
        match multipart::spool(body, boundary, limits, &dir).await {
            Ok(b) => b,
            Err(e) => {
                crate::debug!("request from {}: {e}", ctx.remote);
                return Ok(plain(body_error_status(&e, stats), version, true, guard));
            }
        }
    } else {
        match read_body(body, limits.max_body_size, limits.body_timeout).await {
            Ok(b) if b.is_empty() => RequestBody::Empty,
            Ok(b) => RequestBody::Bytes(b),
            Err(e) => {
                crate::debug!("request from {}: {e}", ctx.remote);
                return Ok(plain(body_error_status(&e, stats), version, true, guard));
            }
        }
    };

    let head = RequestHead {
        id: shared.next_request_id.fetch_add(1, Ordering::Relaxed) + 1,
        method: parts.method,
        uri: parts.uri,
        version,
        headers: parts.headers,
        remote: ctx.remote,
        local: ctx.local,
        tls: ctx.tls,
    };
    let (reply, rx) = Reply::new();
    guard.dispatched();
    if shared.dispatcher.dispatch(Box::new(IncomingRequest { head, body, reply })).is_err() {
        return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, version, true, guard));
    }

    let answer = match limits.request_timeout {
        Some(t) => match tokio::time::timeout(t, rx).await {
            Ok(r) => r,
            Err(_) => {
                stats.request_timeouts.fetch_add(1, Ordering::Relaxed);
                return Ok(plain(StatusCode::GATEWAY_TIMEOUT, version, false, guard));
            }
        },
        None => rx.await,
    };
    let Ok(start) = answer else {
        stats.unanswered.fetch_add(1, Ordering::Relaxed);
        return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, version, false, guard));
    };

    let mut headers = start.headers;
    let head_without_body = is_head && matches!(&start.body, ResponseBodySource::Full(b) if b.is_empty());
    framing::prepare_headers(start.status, &mut headers, head_without_body);
    let coding = choose_coding(&shared.config, &mut headers, accept_encoding.as_ref(), start.status, is_head);
    let kind = match framing::body_for(start.status, start.body) {
        ResponseBodySource::Full(b)
            if coding != Coding::Identity && b.len() >= shared.config.compression.min_size =>
        {
            match encoding::encode_all(coding, &shared.config.compression, &b) {
                Ok(encoded) => {
                    mark_encoded(&mut headers, coding, stats);
                    Kind::Full(Some(encoded))
                }
                Err(e) => {
                    crate::warn!("compressing a response failed ({e}); sending it as is");
                    Kind::Full(Some(b))
                }
            }
        }
        ResponseBodySource::Full(b) => Kind::Full(Some(b)),
        ResponseBodySource::Stream { stream, heartbeat } => {
            let encoder = StreamEncoder::new(coding, &shared.config.compression);
            if encoder.is_some() {
                mark_encoded(&mut headers, coding, stats);
            }
            Kind::Stream(StreamedBody::new(stream.body(), encoder, heartbeat, Arc::clone(stats)))
        }
    };
    let mut resp = Response::new(ResponseBody { kind, complete: false, guard: Some(guard) });
    *resp.status_mut() = start.status;
    *resp.headers_mut() = headers;
    if let Some(reason) = start.reason {
        if version < Version::HTTP_2 {
            if let Ok(r) = hyper::ext::ReasonPhrase::try_from(reason) {
                resp.extensions_mut().insert(r);
            }
        }
    }
    Ok(resp)
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
}
