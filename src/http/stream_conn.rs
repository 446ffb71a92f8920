//! HTTP/1.1 event-stream connections served without hyper.
//!
//! Owns: recognising, from the bytes read while sniffing a plaintext connection, a request
//! that opens an event stream (`GET`, `Accept: text/event-stream`, no body, nothing after
//! it), and serving that one request: dispatch, the response head, then the stream's
//! chunks written straight to the socket until it ends or the client leaves.
//! Does not own: anything else — every other request, and every request this module is
//! not sure about, goes to hyper with the bytes read so far replayed.
//!
//! Why: an idle stream is what thousands of browsers hold, and under hyper each one keeps
//! hyper's 8 KiB read buffer, its 8 KiB write buffer and its connection state (~20 KiB of
//! RSS with everything else; bench/RESULTS.md). Here an idle stream holds its socket, its
//! queue, its heartbeat timer and a small task — no buffer: chunks are written with a
//! vectored write from the queue's own `Bytes`, and a closed peer is noticed by a
//! readiness wait and a read into a few bytes of stack.
//!
//! The connection closes when the stream ends (`connection: close` says so); EventSource
//! reconnects by itself, and a stream's connection had no other use.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use http::header::{HeaderName, HeaderValue, ACCEPT, ACCEPT_ENCODING};
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::body::StreamedBody;
use super::encoding::{self, choose_coding, mark_encoded, Coding, StreamEncoder};
use super::exchange::{IncomingRequest, Reply, RequestBody, RequestHead, ResponseBodySource, ResponseStart};
use super::framing;
use super::service::ServerShared;

/// A request line and headers that open an event stream.
pub struct StreamRequest {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl StreamRequest {
    pub fn path(&self) -> &str {
        self.uri.path()
    }
}

/// What the first bytes of a plaintext connection are.
pub enum Head {
    /// More bytes are needed to tell.
    Incomplete,
    /// An event-stream request this module serves.
    Stream(Box<StreamRequest>),
    /// Anything else: hyper's.
    Other,
}

/// Looks at the bytes read so far. Conservative: whatever is unusual is `Other`.
pub fn classify(buf: &[u8], max_headers: usize, max_header_size: usize) -> Head {
    if !(buf.starts_with(b"GET ") || b"GET ".starts_with(buf)) {
        return Head::Other;
    }
    if buf.len() < 4 {
        return Head::Incomplete;
    }
    let mut storage = vec![httparse::EMPTY_HEADER; max_headers.min(256)];
    let mut req = httparse::Request::new(&mut storage);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < max_header_size => return Head::Incomplete,
        _ => return Head::Other,
    };
    // Exactly one request, HTTP/1.1, under the size limit.
    if len != buf.len() || len > max_header_size || req.version != Some(1) {
        return Head::Other;
    }
    let Some(path) = req.path.filter(|p| p.starts_with('/')) else { return Head::Other };
    let Ok(uri) = Uri::try_from(path) else { return Head::Other };
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    let mut wants_stream = false;
    for h in req.headers.iter() {
        let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(h.name.as_bytes()), HeaderValue::from_bytes(h.value))
        else {
            return Head::Other;
        };
        match name.as_str() {
            // A body, an upgrade, an expectation: hyper knows what to do with those.
            "content-length" if h.value != b"0" => return Head::Other,
            "transfer-encoding" | "upgrade" | "expect" => return Head::Other,
            "connection" if !value.as_bytes().eq_ignore_ascii_case(b"keep-alive") => return Head::Other,
            _ => {}
        }
        if name == ACCEPT
            && value.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("text/event-stream"))
        {
            wants_stream = true;
        }
        headers.append(name, value);
    }
    // A head the rules refuse is hyper's too: the service answers it with the same 400.
    if !wants_stream || super::head_checks::check_host(Version::HTTP_11, &headers).is_err() {
        return Head::Other;
    }
    Head::Stream(Box::new(StreamRequest { method: Method::GET, uri, headers }))
}

/// Writes all of `bufs` (advancing through partial writes).
async fn write_all_vectored(io: &mut TcpStream, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !bufs.is_empty() {
        let n = io.write_vectored(bufs).await?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        IoSlice::advance_slices(&mut bufs, n);
    }
    Ok(())
}

fn head_bytes(
    status: StatusCode,
    reason: Option<&[u8]>,
    headers: &HeaderMap,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    match reason {
        // The phrases hyper accepts on its path, so that both paths send the same line.
        Some(r) if hyper::ext::ReasonPhrase::try_from(r).is_ok() => out.extend_from_slice(r),
        _ => out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes()),
    }
    out.extend_from_slice(b"\r\n");
    for (k, v) in headers {
        out.extend_from_slice(k.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (k, v) in extra {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !headers.contains_key(http::header::DATE) {
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(httpdate::fmt_http_date(SystemTime::now()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out
}

/// A small response for a request that never reached the application's answer.
async fn plain(io: &mut TcpStream, status: StatusCode) {
    let head = head_bytes(status, None, &HeaderMap::new(), &[("content-length", "0")]);
    let _ = io.write_all(&head).await;
    let _ = io.shutdown().await;
}

/// Bytes a client may send on an event stream's connection after its request before the
/// connection is closed. A stream's connection carries no further request (it closes when
/// the stream ends), so nothing a well-behaved client sends here has a use; the allowance
/// only spares a client that pipelined a request or two. Reads on its behalf are thereby
/// bounded: a client that streams bytes into the socket costs at most this much work
/// instead of a busy I/O thread (issue 8, D1).
pub const MAX_STRAY_BYTES: usize = 16 * 1024;

/// Reads per readiness event at most, so that one connection cannot keep its I/O thread.
const STRAY_READS_PER_WAKE: usize = 4;

/// What a readable stream connection means.
#[derive(Debug, PartialEq, Eq)]
enum Peer {
    /// Still there; anything it sent was discarded and counted in `stray`.
    Open,
    /// Closed its side, or the connection broke.
    Gone,
    /// Sent more than `MAX_STRAY_BYTES` since its request.
    Flooding,
}

/// Reads what the peer sent (a few bounded reads, discarded) to tell whether it left.
fn check_peer(io: &TcpStream, stray: &mut usize) -> Peer {
    let mut scratch = [0u8; 1024];
    for _ in 0..STRAY_READS_PER_WAKE {
        match io.try_read(&mut scratch) {
            Ok(0) => return Peer::Gone,
            Ok(n) => {
                *stray += n;
                if *stray > MAX_STRAY_BYTES {
                    return Peer::Flooding;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Peer::Open,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Peer::Gone,
        }
    }
    Peer::Open
}

/// Serves the one request `req` on `io`, then closes the connection.
///
/// In three steps, each its own future, so that what stays allocated for the life of a
/// stream is the small last one (`pump`), not the room the earlier steps needed.
pub async fn serve(
    mut io: TcpStream,
    req: Box<StreamRequest>,
    remote: SocketAddr,
    local: SocketAddr,
    shared: Arc<ServerShared>,
) {
    let stats = Arc::clone(&shared.stats);
    stats.requests.fetch_add(1, Ordering::Relaxed);
    stats.in_flight.fetch_add(1, Ordering::Relaxed);
    let _in_flight = InFlight(Arc::clone(&stats));
    let accept_encoding = req.headers.get(ACCEPT_ENCODING).cloned();
    let start = match Box::pin(answer(req, remote, local, &shared)).await {
        Ok(start) => start,
        Err(status) => {
            plain(&mut io, status).await;
            return;
        }
    };
    let write_timeout = shared.config.limits.write_timeout;
    let body = match Box::pin(write_head(&mut io, start, accept_encoding, &shared)).await {
        Some(body) => body,
        None => return,
    };
    Box::pin(pump(io, body, write_timeout, stats)).await;
}

/// Hands the request to the application and waits for its answer (or the request
/// timeout); the status to send instead when there is none.
async fn answer(
    req: Box<StreamRequest>,
    remote: SocketAddr,
    local: SocketAddr,
    shared: &ServerShared,
) -> Result<ResponseStart, StatusCode> {
    let stats = &shared.stats;
    let StreamRequest { method, uri, headers } = *req;
    let head = RequestHead {
        id: shared.next_request_id.fetch_add(1, Ordering::Relaxed) + 1,
        method,
        uri,
        version: Version::HTTP_11,
        headers,
        remote,
        local,
        tls: false,
    };
    let (reply, rx) = Reply::new();
    if shared
        .dispatcher
        .dispatch(Box::new(IncomingRequest { head, body: RequestBody::Empty, reply }))
        .is_err()
    {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    let answer = match shared.config.limits.request_timeout {
        Some(t) => match tokio::time::timeout(t, rx).await {
            Ok(r) => r,
            Err(_) => {
                stats.request_timeouts.fetch_add(1, Ordering::Relaxed);
                return Err(StatusCode::GATEWAY_TIMEOUT);
            }
        },
        None => rx.await,
    };
    answer.map_err(|_| {
        stats.unanswered.fetch_add(1, Ordering::Relaxed);
        StatusCode::INTERNAL_SERVER_ERROR
    })
}

/// Writes a whole response (`None`: done), or the head of a stream and returns its body.
async fn write_head(
    io: &mut TcpStream,
    start: ResponseStart,
    accept_encoding: Option<HeaderValue>,
    shared: &ServerShared,
) -> Option<StreamedBody> {
    let stats = &shared.stats;
    let write_timeout = shared.config.limits.write_timeout;
    let ResponseStart { status, reason, mut headers, body } = start;
    framing::prepare_headers(status, &mut headers, false);
    headers.remove(http::header::CONNECTION); // this connection closes after the response
    let coding = choose_coding(&shared.config, &mut headers, accept_encoding.as_ref(), status, false);
    match framing::body_for(status, body) {
        ResponseBodySource::Full(b) if !framing::status_allows_body(status) => {
            let head = head_bytes(status, reason.as_deref(), &headers, &[]);
            let _ = tokio::time::timeout(write_timeout, io.write_all(&head)).await;
            let _ = io.shutdown().await;
            drop(b);
            None
        }
        ResponseBodySource::Full(b) => {
            let b = if coding != Coding::Identity && b.len() >= shared.config.compression.min_size {
                match encoding::encode_all(coding, &shared.config.compression, &b) {
                    Ok(encoded) => {
                        mark_encoded(&mut headers, coding, stats);
                        encoded
                    }
                    Err(_) => b,
                }
            } else {
                b
            };
            let len = b.len().to_string();
            let head = head_bytes(status, reason.as_deref(), &headers, &[("content-length", &len)]);
            let mut slices = [IoSlice::new(&head), IoSlice::new(&b)];
            let _ = tokio::time::timeout(write_timeout, write_all_vectored(io, &mut slices)).await;
            let _ = io.shutdown().await;
            None
        }
        ResponseBodySource::Stream { stream, heartbeat } => {
            let encoder = StreamEncoder::new(coding, &shared.config.compression);
            if encoder.is_some() {
                mark_encoded(&mut headers, coding, stats);
            }
            let body = StreamedBody::new(stream.body(), encoder, heartbeat, Arc::clone(stats));
            let head = head_bytes(status, reason.as_deref(), &headers, &[("transfer-encoding", "chunked")]);
            drop(headers);
            match tokio::time::timeout(write_timeout, io.write_all(&head)).await {
                Ok(Ok(())) => Some(body),
                _ => {
                    stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                    None // dropping the body reports the stream closed
                }
            }
        }
    }
}

/// Frames already queued behind the first that one write takes along: fewer system calls
/// when PHP queues several events at once (a Datastar sync is an element patch and a
/// signal patch; bench/RESULTS.md, issue 9: one `writev` per event was the I/O thread's
/// largest cost in a broadcast to 2,000 tabs).
const BATCH_FRAMES: usize = 16;
/// Bytes one batched write carries at most.
const BATCH_BYTES: usize = 64 * 1024;

/// Writes the stream's chunks as they come until it ends, the client leaves, or a write
/// stalls past the write timeout. Dropping `body` on the way out reports a stream that did
/// not finish as closed.
async fn pump(
    mut io: TcpStream,
    mut body: StreamedBody,
    write_timeout: std::time::Duration,
    stats: Arc<super::stats::Stats>,
) {
    use futures_util::FutureExt;
    let mut stray = 0usize;
    let mut batch: Vec<bytes::Bytes> = Vec::with_capacity(BATCH_FRAMES);
    loop {
        let first = tokio::select! {
            // The stream first: a readable socket only matters when there is nothing to send.
            biased;
            frame = body.frame() => frame,
            ready = io.readable() => {
                let peer = if ready.is_err() { Peer::Gone } else { check_peer(&io, &mut stray) };
                match peer {
                    Peer::Open => continue,
                    Peer::Gone => {
                        stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Peer::Flooding => {
                        crate::debug!(
                            "event stream closed: the client sent over {MAX_STRAY_BYTES} bytes \
                             after its request"
                        );
                        stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        };
        // What this frame and those ready behind it say: data to write, and how it ends.
        let mut next = Some(first);
        let mut end = None;
        let mut bytes = 0;
        while let Some(frame) = next.take() {
            match frame {
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        if !data.is_empty() {
                            bytes += data.len();
                            batch.push(data);
                        }
                    }
                }
                other => {
                    end = Some(other.is_none()); // true: finished; false: aborted
                    break;
                }
            }
            if batch.len() < BATCH_FRAMES && bytes < BATCH_BYTES {
                next = body.frame().now_or_never();
            }
        }
        if !batch.is_empty() {
            match write_chunks(&mut io, &batch, write_timeout).await {
                Ok(()) => batch.clear(),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    stats.write_timeouts.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(_) => {
                    stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        match end {
            None => {}
            // The application gave up mid-stream: no clean end (a reset).
            Some(false) => return,
            Some(true) => {
                let _ = tokio::time::timeout(write_timeout, io.write_all(b"0\r\n\r\n")).await;
                let _ = io.shutdown().await;
                return;
            }
        }
    }
}

/// Chunks of a chunked body — size line, data, CRLF each — in one vectored write. Written
/// at once when the socket takes it (the common case: no timer); only a write that would
/// block waits, bounded by `timeout` (then `TimedOut`).
async fn write_chunks(
    io: &mut TcpStream,
    chunks: &[bytes::Bytes],
    timeout: std::time::Duration,
) -> io::Result<()> {
    let mut sizes = [[0u8; 18]; BATCH_FRAMES];
    let mut lens = [0usize; BATCH_FRAMES];
    for (i, data) in chunks.iter().enumerate().take(BATCH_FRAMES) {
        use std::io::Write;
        let mut w = &mut sizes[i][..];
        write!(w, "{:x}\r\n", data.len())?;
        lens[i] = 18 - w.len();
    }
    let mut slices = Vec::with_capacity(chunks.len() * 3);
    for (i, data) in chunks.iter().enumerate().take(BATCH_FRAMES) {
        slices.push(IoSlice::new(&sizes[i][..lens[i]]));
        slices.push(IoSlice::new(data));
        slices.push(IoSlice::new(b"\r\n"));
    }
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match io.try_write_vectored(rest) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if rest.is_empty() {
        return Ok(());
    }
    match tokio::time::timeout(timeout, write_all_vectored(io, rest)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::from(io::ErrorKind::TimedOut)),
    }
}

/// Keeps the request counted in `in_flight` until the connection is done.
struct InFlight(Arc<super::stats::Stats>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(raw: &[u8]) -> &'static str {
        match classify(raw, 100, 16384) {
            Head::Incomplete => "incomplete",
            Head::Stream(_) => "stream",
            Head::Other => "other",
        }
    }

    #[test]
    fn only_plain_event_stream_gets_are_taken() {
        let sse = b"GET /events?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n";
        assert_eq!(kind(sse), "stream");
        assert_eq!(kind(&sse[..20]), "incomplete");
        assert_eq!(kind(b"GE"), "incomplete");
        assert_eq!(kind(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "other", "not asking for a stream");
        assert_eq!(kind(b"POST /e HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n"), "other");
        assert_eq!(kind(b"GET /e HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n"), "other");
        assert_eq!(
            kind(b"GET /e HTTP/1.1\r\nAccept: text/event-stream\r\nContent-Length: 3\r\n\r\n"),
            "other"
        );
        assert_eq!(
            kind(b"GET /e HTTP/1.1\r\nAccept: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "other"
        );
        assert_eq!(
            kind(b"GET /e HTTP/1.1\r\nAccept: text/event-stream\r\nConnection: upgrade\r\n\r\n"),
            "other"
        );
        let mut pipelined = sse.to_vec();
        pipelined.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(kind(&pipelined), "other", "pipelined requests are hyper's");
        assert_eq!(kind(b"GET http://a/e HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n"), "other");
        assert_eq!(
            kind(b"GET /e HTTP/1.1\r\nHost: a\r\nAccept: text/html, text/event-stream;q=0.9\r\n\r\n"),
            "stream"
        );
        assert_eq!(
            kind(b"GET /e HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n"),
            "other",
            "no Host: hyper's 400"
        );
        assert_eq!(
            kind(b"GET /e HTTP/1.1\r\nHost: a\r\nHost: b\r\nAccept: text/event-stream\r\n\r\n"),
            "other"
        );
        assert_eq!(kind(b"GET /e HTTP/1.1\r\nBad Header\r\n\r\n"), "other");
        let big = format!("GET /e HTTP/1.1\r\nAccept: text/event-stream\r\nX: {}\r\n\r\n", "a".repeat(20000));
        assert_eq!(kind(big.as_bytes()), "other", "over the header limit: hyper answers 431");
    }
}
