//! HTTP/1.1 event-stream connections served without hyper.
//!
//! Owns: serving a request that opens an event stream (`GET`, `Accept: text/event-stream`,
//! no body, nothing after it; `h1` recognises it) as its connection's last: dispatch, the
//! response head, then the stream's chunks written straight to the socket until it ends or
//! the client leaves. The chunk writer (`pump`) is `h1`'s too, for a stream answered on a
//! connection that goes on.
//! Does not own: any other request (`h1`, hyper).
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

use bytes::BytesMut;
use http::header::{HeaderValue, ACCEPT_ENCODING};
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::answer::{encode_head, shape, Delimit, Outgoing, Shaped};
use super::body::StreamedBody;
use super::exchange::{IncomingRequest, Reply, RequestBody, RequestHead, ResponseStart};
use super::framing;
use super::service::ServerShared;

/// A request line and headers that open an event stream.
pub struct StreamRequest {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl StreamRequest {
    /// An event-stream request that `h1` parsed (on a connection it served before).
    pub(super) fn new(method: Method, uri: Uri, headers: HeaderMap) -> Self {
        Self { method, uri, headers }
    }

    pub fn path(&self) -> &str {
        self.uri.path()
    }
}

/// Writes all of `bufs` (advancing through partial writes).
pub(super) async fn write_all_vectored(io: &mut TcpStream, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !bufs.is_empty() {
        let n = io.write_vectored(bufs).await?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        IoSlice::advance_slices(&mut bufs, n);
    }
    Ok(())
}

/// A small response for a request that never reached the application's answer.
async fn plain(io: &mut TcpStream, status: StatusCode) {
    let mut head = Vec::with_capacity(128);
    encode_head(&mut head, status, None, &HeaderMap::new(), Delimit::Length(0), true);
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

/// Reads what the peer sent (a few bounded reads) to tell whether it left: discarded and
/// counted, or kept for the next request.
fn check_peer(io: &TcpStream, input: &mut Input<'_>) -> Peer {
    let mut scratch = [0u8; 1024];
    for _ in 0..STRAY_READS_PER_WAKE {
        let read = match input {
            Input::Discard { .. } => io.try_read(&mut scratch),
            Input::Keep { buf, limit } if buf.len() < *limit => {
                buf.reserve(1024);
                io.try_read_buf(*buf)
            }
            Input::Keep { .. } => return Peer::Open,
        };
        match read {
            Ok(0) => return Peer::Gone,
            Ok(n) => {
                if let Input::Discard { stray } = input {
                    *stray += n;
                    if *stray > MAX_STRAY_BYTES {
                        return Peer::Flooding;
                    }
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
    Box::pin(pump(&mut io, body, write_timeout, &stats, Input::Discard { stray: 0 })).await;
    let _ = io.shutdown().await;
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
    let mut shaped = shape(start, false, accept_encoding.as_ref(), &shared.config, stats);
    shaped.headers.remove(http::header::CONNECTION); // this connection closes after the response
    let Shaped { status, reason, headers, body } = shaped;
    let mut head = Vec::with_capacity(256);
    match body {
        Outgoing::Full(b) => {
            let delimit = if framing::status_allows_body(status) {
                Delimit::Length(b.len() as u64)
            } else {
                Delimit::None
            };
            encode_head(&mut head, status, reason.as_deref(), &headers, delimit, true);
            let mut slices = [IoSlice::new(&head), IoSlice::new(&b)];
            let _ = tokio::time::timeout(write_timeout, write_all_vectored(io, &mut slices)).await;
            let _ = io.shutdown().await;
            None
        }
        Outgoing::Stream(body) => {
            encode_head(&mut head, status, reason.as_deref(), &headers, Delimit::Chunked, true);
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

/// What a stream's writer does with the bytes its client sends meanwhile.
pub(super) enum Input<'a> {
    /// Discards them, `MAX_STRAY_BYTES` in all at most: the connection closes after the
    /// stream and has no use for them.
    Discard { stray: usize },
    /// Keeps them for the connection's next request, up to `limit` bytes; then stops
    /// reading until the stream ends (a closed peer is then noticed by a failing write or
    /// the next heartbeat).
    Keep { buf: &'a mut BytesMut, limit: usize },
}

/// How a stream's writing ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Pumped {
    /// The stream finished and its last chunk was written: the connection may go on.
    Finished,
    /// The application gave up, the client left or stalled, or flooded: close.
    Cut,
}

/// Writes the stream's chunks as they come until it ends, the client leaves, or a write
/// stalls past the write timeout. Dropping `body` on the way out reports a stream that did
/// not finish as closed.
pub(super) async fn pump(
    io: &mut TcpStream,
    mut body: StreamedBody,
    write_timeout: std::time::Duration,
    stats: &super::stats::Stats,
    mut input: Input<'_>,
) -> Pumped {
    use futures_util::FutureExt;
    let mut batch: Vec<bytes::Bytes> = Vec::with_capacity(BATCH_FRAMES);
    loop {
        let reading = match &input {
            Input::Discard { .. } => true,
            Input::Keep { buf, limit } => buf.len() < *limit,
        };
        let first = tokio::select! {
            // The stream first: a readable socket only matters when there is nothing to send.
            biased;
            frame = body.frame() => frame,
            ready = io.readable(), if reading => {
                let peer = if ready.is_err() { Peer::Gone } else { check_peer(io, &mut input) };
                match peer {
                    Peer::Open => continue,
                    Peer::Gone => {
                        stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                        return Pumped::Cut;
                    }
                    Peer::Flooding => {
                        crate::debug!(
                            "event stream closed: the client sent over {MAX_STRAY_BYTES} bytes \
                             after its request"
                        );
                        stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                        return Pumped::Cut;
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
            match write_chunks(io, &batch, write_timeout).await {
                Ok(()) => batch.clear(),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    stats.write_timeouts.fetch_add(1, Ordering::Relaxed);
                    return Pumped::Cut;
                }
                Err(_) => {
                    stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                    return Pumped::Cut;
                }
            }
        }
        match end {
            None => {}
            // The application gave up mid-stream: no clean end (a reset).
            Some(false) => return Pumped::Cut,
            Some(true) => {
                return match tokio::time::timeout(write_timeout, io.write_all(b"0\r\n\r\n")).await {
                    Ok(Ok(())) => Pumped::Finished,
                    _ => Pumped::Cut,
                };
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
