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
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use bytes::BytesMut;
use http::header::{HeaderValue, ACCEPT_ENCODING};
use http::{Method, StatusCode, Uri};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::answer::{encode_head, shape, Delimit, Outgoing, Shaped};
use super::body::StreamedBody;
use super::exchange::{
    BodyRoom, IncomingRequest, Reply, RequestBody, RequestHead, ResponseBodySource, ResponseStart,
};
use super::fields::Headers;
use super::framing;
use super::service::ServerShared;
use super::stream::Polled;
use crate::ops::{Gate, Own, Ticket};

/// A request line and headers that open an event stream.
pub struct StreamRequest {
    method: Method,
    uri: Uri,
    headers: Headers,
}

impl StreamRequest {
    /// An event-stream request that `h1` parsed (on a connection it served before).
    pub(super) fn new(method: Method, uri: Uri, headers: Headers) -> Self {
        Self { method, uri, headers }
    }

    pub fn path(&self) -> &str {
        self.uri.path()
    }
}

/// One `sendmsg` of `bufs`, without waiting (`WouldBlock` when the socket is full).
///
/// `sendmsg` rather than Tokio's `writev`: `writev` goes through the VFS layer (the file
/// position lock, `rw_verify_area`, `vfs_writev`), which a socket does not need — ~7 % of
/// the I/O thread in a 10,000-stream fan-out (bench/RESULTS.md, issue 12). `MSG_NOSIGNAL`:
/// a closed peer is an error, not a SIGPIPE.
pub(super) fn try_send(io: &TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    io.try_io(tokio::io::Interest::WRITABLE, || {
        socket2::SockRef::from(io).send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL)
    })
}

/// Writes all of `bufs` (advancing through partial writes), waiting while the socket is
/// full. One buffer left goes out with `send`: `sendmsg` would import an iovec array for
/// it (measurably more kernel time per small answer).
pub(super) async fn write_all_vectored(io: &mut TcpStream, bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    write_all_vectored_within(io, bufs, None).await
}

/// `write_all_vectored`, with `within` (a timer and a timeout) a `TimedOut` error once the
/// socket took nothing for the timeout: time without progress, so that a large answer to
/// a slow but steady reader is not cut off. The clock is read only when the socket is full.
pub(super) async fn write_all_vectored_within(
    io: &mut TcpStream,
    mut bufs: &mut [IoSlice<'_>],
    mut within: Option<(&mut super::timer::Timer, std::time::Duration)>,
) -> io::Result<()> {
    loop {
        while bufs.first().is_some_and(|b| b.is_empty()) {
            bufs = &mut bufs[1..];
        }
        if bufs.is_empty() {
            return Ok(());
        }
        let sent = if bufs[1..].iter().all(|b| b.is_empty()) {
            // `std`'s socket write is a `send` with `MSG_NOSIGNAL`.
            io.try_write(&bufs[0])
        } else {
            try_send(io, bufs)
        };
        match sent {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => match within.as_mut() {
                None => io.writable().await?,
                Some((timer, timeout)) => {
                    let timeout = *timeout;
                    let deadline = std::pin::pin!(timer.until(|| tokio::time::Instant::now() + timeout));
                    match super::race::first(std::pin::pin!(io.writable()), deadline).await {
                        super::race::First::Left(ready) => ready?,
                        super::race::First::Right(()) => return Err(io::ErrorKind::TimedOut.into()),
                    }
                }
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A small response for a request that never reached the application's answer.
async fn plain(io: &mut TcpStream, status: StatusCode, shared: &ServerShared) {
    let (headers, body) = shared.ops.pages.answer(status);
    write_own(io, Own { status, headers, body }).await;
}

/// Writes an answer the runtime gives itself, then closes.
async fn write_own(io: &mut TcpStream, own: Own) {
    let mut head = Vec::with_capacity(128);
    encode_head(&mut head, own.status, None, &own.headers, Delimit::Length(own.body.len() as u64), true);
    let _ = io.write_all(&head).await;
    let _ = io.write_all(&own.body).await;
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

/// Serves the one request `req` on `io`, then closes the connection. `held` is what the
/// connection holds while it is open (its slot and counts), kept until it closes.
///
/// In steps, each its own future; the last, writing the stream, is a task of its own (see
/// below), so that what stays allocated for the life of a stream is that small task, not
/// the room the earlier steps and the connection's task needed.
pub async fn serve<H: Send + 'static>(
    mut io: TcpStream,
    req: Box<StreamRequest>,
    remote: SocketAddr,
    local: SocketAddr,
    shared: Arc<ServerShared>,
    held: H,
) {
    let stats = Arc::clone(&shared.stats);
    stats.requests.fetch_add(1, Ordering::Relaxed);
    stats.in_flight.fetch_add(1, Ordering::Relaxed);
    let _in_flight = InFlight(Arc::clone(&stats));
    let accept_encoding = req.headers.first(&ACCEPT_ENCODING);
    let ops = &shared.ops;
    let mut ticket = None;
    if ops.active() {
        match ops.admit(&shared, (&req.method, &req.uri, http::Version::HTTP_11, &req.headers), remote) {
            Gate::Answer(own) => return Box::pin(write_own(&mut io, own)).await,
            Gate::Pass(t) => ticket = t,
        }
    }
    let start = match Box::pin(answer(req, ticket.as_deref(), remote, local, &shared)).await {
        Ok(start) => start,
        Err(status) => {
            ops.answered(ticket, status, None);
            Box::pin(plain(&mut io, status, &shared)).await;
            return;
        }
    };
    if ticket.is_some() {
        let bytes = match &start.body {
            ResponseBodySource::Full(b) => Some(b.len() as u64),
            ResponseBodySource::Stream { .. } => None,
        };
        ops.answered(ticket, start.status, bytes);
    }
    let write = (shared.config.limits.write_timeout, shared.lends_stream_sockets);
    let body = match Box::pin(write_head(&mut io, start, accept_encoding, &shared)).await {
        Some(body) => body,
        None => return,
    };
    // The stream's writing is a task of its own, whose small future lies right behind the
    // task's header: with thousands of streams every event finds a stream cold in the
    // cache, and each level of futures it passed through (this one, the connection's, the
    // accept loop's) was another miss per event. The connection's task ends here; the
    // writer keeps what the connection held until the stream ends.
    // What is held is boxed: in the future itself it would stand between the task's header
    // and the state every event reads.
    let held = Box::new((held, _in_flight));
    tokio::spawn(async move {
        let _held = held;
        pump(&mut io, body, write, &stats, Input::Discard { stray: 0 }).await;
        let _ = io.shutdown().await;
    });
}

/// Hands the request to the application and waits for its answer (or the request
/// timeout); the status to send instead when there is none.
async fn answer(
    req: Box<StreamRequest>,
    ticket: Option<&Ticket>,
    remote: SocketAddr,
    local: SocketAddr,
    shared: &ServerShared,
) -> Result<ResponseStart, StatusCode> {
    let stats = &shared.stats;
    let StreamRequest { method, uri, headers } = *req;
    let client = ticket.map_or(remote, |t| t.client);
    let mut head = RequestHead::http11(&shared.next_request_id, (method, uri, headers), client, local);
    head.trace = ticket.and_then(Ticket::trace);
    let (reply, rx) = Reply::new();
    if shared
        .dispatcher
        .dispatch(Box::new(IncomingRequest {
            head,
            body: RequestBody::Empty,
            body_room: BodyRoom::default(),
            reply,
        }))
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
        shared.ops.unanswered_status()
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
    // This connection closes after the response: `encode_head` says so in place of any
    // `Connection` of the application's.
    let Shaped { status, reason, headers, body, .. } =
        shape(start, false, accept_encoding.as_ref(), &shared.config, stats);
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
/// Frames a batch holds without an allocation (a Datastar sync's two, and two more).
const BATCH_INLINE: usize = 4;
/// Bytes one batched write carries at most.
const BATCH_BYTES: usize = 64 * 1024;
/// Up to this many bytes, copying pieces into one buffer and sending it with `send` costs
/// less than `sendmsg` importing an iovec array for them: event frames (with their chunk
/// framing) here, and a whole answer's head and body in `h1`.
pub(super) const SMALL_SEND: usize = 2048;

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
/// stalls past the write timeout; lends the socket to pushes while it waits when `lend`
/// (`ServerShared::lends_stream_sockets`). Dropping `body` on the way out reports a stream
/// that did not finish as closed.
pub(super) async fn pump(
    io: &mut TcpStream,
    mut body: StreamedBody,
    (write_timeout, lend): (std::time::Duration, bool),
    stats: &super::stats::Stats,
    mut input: Input<'_>,
) -> Pumped {
    // The last collection ended with the body pending: its waker is registered, and until
    // the task is woken again there is no need to look (a push wakes it).
    let mut body_registered = false;
    // A read readiness poll returned `Pending`: the socket holds the task's waker until it
    // becomes readable, and until then a look at its readiness (no lock, no registration)
    // is enough. A poll every event took the readiness waiters' lock and the task budget's
    // thread-local.
    let mut read_registered = false;
    // The task waits with the socket lent to pushes (`StreamShared::arm`): they write small
    // events to it themselves, or queue them for an I/O thread to write in one flush
    // (decision 0029), so a fan-out neither wakes nor polls this task per event. Taken back
    // (`disarm`) first thing whenever the task runs, before it writes to, reads from or
    // gives up the socket. (The body, which `disarm`s when it is dropped, borrows `io`: the
    // socket cannot close while it may be armed.)
    let fd = (lend && body.may_lend()).then(|| io.as_raw_fd());
    let mut armed = false;
    loop {
        let reading = match &input {
            Input::Discard { .. } => true,
            Input::Keep { buf, limit } => buf.len() < *limit,
        };
        // The frames ready now are collected and written on the stack, in the poll: with
        // thousands of streams each event finds a stream's state cold in the cache, and
        // every line of it touched is a miss, so nothing here is kept in the task unless the
        // socket is full (then the rest is copied out for the wait), nor moved out of the
        // poll. Collected with the task's own waker: a poll with any other (a no-op waker)
        // would replace the body's and the heartbeat timer's registrations, to be put back
        // by the next poll, on every event.
        let step = std::future::poll_fn(|cx| {
            if std::mem::take(&mut armed) {
                // Woken while lent: by a push that took the socket back and queued, or a
                // flush that could not write whole (either takes the body's waker), a
                // readable socket or the heartbeat's timer. What a push or a flush left
                // half-sent goes first, with whatever else is queued after it.
                if let Some(unsent) = body.disarm() {
                    return Poll::Ready(Step::Sent { rest: Some(unsent), end: None });
                }
                body_registered = false;
            }
            // The body's waker is registered: a push that queues wakes the task.
            let mut waiting = true;
            // Skipped once only, and only right after frames were taken: a poll that follows
            // a wake-up must look. The stream first: a readable socket only matters when
            // there is nothing to send.
            if !std::mem::take(&mut body_registered) {
                let mut frames = smallvec::SmallVec::<[bytes::Bytes; BATCH_INLINE]>::new();
                let polled = body.poll_batch(cx, &mut frames, BATCH_FRAMES, BATCH_BYTES);
                let end = match polled {
                    Polled::More | Polled::Pending => None,
                    Polled::Finished => Some(true),
                    Polled::Aborted => Some(false),
                };
                if !frames.is_empty() || end.is_some() {
                    body_registered = polled == Polled::Pending;
                    return Poll::Ready(match send_chunks_now(io, &frames) {
                        Ok(rest) => Step::Sent { rest, end },
                        Err(_) => Step::Gone,
                    });
                }
                waiting = polled == Polled::Pending;
            }
            if reading {
                if read_registered {
                    if io.try_io(tokio::io::Interest::READABLE, || Ok(())).is_ok() {
                        read_registered = false;
                        return Poll::Ready(Step::Readable);
                    }
                } else {
                    // A poll refused for the task's budget registers nothing (it wakes the
                    // task to come back): then the next poll must poll again.
                    let budget = tokio::task::coop::has_budget_remaining();
                    match io.poll_read_ready(cx) {
                        Poll::Ready(Ok(())) => return Poll::Ready(Step::Readable),
                        Poll::Ready(Err(_)) => return Poll::Ready(Step::Gone),
                        Poll::Pending => read_registered = budget,
                    }
                }
            }
            // Lent only while the body holds the task's waker for a push or a flush that
            // gives the socket back, and never with something queued when lent (`arm`
            // looks under the queue's lock; what a deferring push queues afterwards has its
            // flush coming). Refused, something came meanwhile: its push, or the end, took the
            // waker and woke the task already.
            if let Some(fd) = fd.filter(|_| waiting) {
                armed = body.arm(fd);
            }
            Poll::Pending
        })
        .await;
        let (rest, end) = match step {
            Step::Sent { rest, end } => (rest, end),
            Step::Readable => match check_peer(io, &mut input) {
                Peer::Open => continue,
                Peer::Gone => {
                    stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                    return Pumped::Cut;
                }
                Peer::Flooding => {
                    crate::debug!(
                        "event stream closed: the client sent over {MAX_STRAY_BYTES} bytes after its request"
                    );
                    stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                    return Pumped::Cut;
                }
            },
            Step::Gone => {
                stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                return Pumped::Cut;
            }
        };
        if let Some(rest) = rest {
            match tokio::time::timeout(write_timeout, io.write_all(&rest)).await {
                // A push while the socket was full woke the task into this wait and took the
                // body's waker with it: the body must be looked at again.
                Ok(Ok(())) => body_registered = false,
                Ok(Err(_)) => {
                    stats.client_aborts.fetch_add(1, Ordering::Relaxed);
                    return Pumped::Cut;
                }
                Err(_) => {
                    stats.write_timeouts.fetch_add(1, Ordering::Relaxed);
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

/// What one poll of a stream's writer came to.
enum Step {
    /// Frames were written, or as much of them as the socket took (`rest`: what it did not);
    /// `end`: how the body ended, if it did (`true` finished, `false` aborted).
    Sent { rest: Option<Vec<u8>>, end: Option<bool> },
    /// The socket is readable: the client sent something, or left.
    Readable,
    /// The connection broke.
    Gone,
}

/// Sends chunks of a chunked body — size line, data, CRLF each — in one vectored write,
/// as far as the socket takes them now (the common case). What it did not take is returned
/// as one buffer, for the caller to write when the socket has room.
fn send_chunks_now(io: &TcpStream, chunks: &[bytes::Bytes]) -> io::Result<Option<Vec<u8>>> {
    // Small frames (most events) are copied into one buffer and sent with `send`: cheaper
    // in the kernel than `sendmsg` importing an iovec array for a few dozen bytes. The
    // buffer is not zeroed first, nor are the iovecs built: both were a tenth of the I/O
    // thread's own time per event in a fan-out (bench/RESULTS.md).
    let mut buf = crate::buf::Stack::<SMALL_SEND>::default();
    if frame_small(chunks, &mut buf) {
        let flat = buf.bytes();
        let total = flat.len();
        let mut sent = 0;
        while sent < total {
            match io.try_write(&flat[sent..]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(k) => sent += k,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        return Ok((sent < total).then(|| flat[sent..].to_vec()));
    }
    // A batch holds at most `BATCH_FRAMES` of the application's frames, and a heartbeat or
    // the encoder's tail joins one only when it stopped short of that (`poll_batch`); a
    // longer one would still go out whole, a group of iovecs at a time.
    let mut groups = chunks.chunks(BATCH_FRAMES);
    while let Some(group) = groups.next() {
        let mut sizes = [[0u8; 18]; BATCH_FRAMES];
        let mut lens = [0usize; BATCH_FRAMES];
        let mut slices = [IoSlice::new(&[]); BATCH_FRAMES * 3];
        for (i, data) in group.iter().enumerate() {
            lens[i] = chunk_size_line(&mut sizes[i], data.len());
        }
        for (i, data) in group.iter().enumerate() {
            slices[i * 3] = IoSlice::new(&sizes[i][..lens[i]]);
            slices[i * 3 + 1] = IoSlice::new(data);
            slices[i * 3 + 2] = IoSlice::new(b"\r\n");
        }
        let mut rest = &mut slices[..group.len() * 3];
        while !rest.is_empty() {
            match try_send(io, rest) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(sent) => IoSlice::advance_slices(&mut rest, sent),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if !rest.is_empty() {
            let mut out: Vec<u8> = rest.iter().flat_map(|s| s.iter().copied()).collect();
            for data in groups.flatten() {
                let mut size = [0u8; 18];
                let k = chunk_size_line(&mut size, data.len());
                out.extend_from_slice(&size[..k]);
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
            }
            return Ok(Some(out));
        }
    }
    Ok(None)
}

/// Frames `chunks` as HTTP/1.1 chunks (size line, data, CRLF each) into `buf`, an empty
/// buffer on the caller's stack (given, not returned: 2 KiB returned by value is a copy);
/// `false`, with nothing written, when they take more than `SMALL_SEND` bytes. Inlined into
/// its two callers: as a call it cost ~30 instructions per event of a fan-out.
#[inline(always)]
pub(super) fn frame_small(chunks: &[bytes::Bytes], buf: &mut crate::buf::Stack<SMALL_SEND>) -> bool {
    let total: usize = chunks.iter().map(|d| framed_len(d.len())).sum();
    debug_assert!(buf.bytes().is_empty());
    if total > SMALL_SEND {
        return false;
    }
    for data in chunks {
        let mut size = [0u8; 18];
        let k = chunk_size_line(&mut size, data.len());
        // SAFETY: `total`, at most `SMALL_SEND`, counts every piece put here, into an empty
        // buffer of that size.
        unsafe {
            buf.put(&size[..k]);
            buf.put(data);
            buf.put(b"\r\n");
        }
    }
    true
}

/// The length of a chunk of `len` bytes framed as an HTTP/1.1 chunk.
pub(super) fn framed_len(len: usize) -> usize {
    chunk_size_line_len(len) + len + 2
}

/// The length of `len`'s chunk size line (hex digits and CRLF).
fn chunk_size_line_len(len: usize) -> usize {
    ((usize::BITS - len.leading_zeros()).div_ceil(4)).max(1) as usize + 2
}

/// Writes `len` in hex and CRLF into `out`; returns the bytes written.
fn chunk_size_line(out: &mut [u8; 18], len: usize) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = chunk_size_line_len(len) - 2;
    for i in 0..digits {
        out[digits - 1 - i] = HEX[(len >> (4 * i)) & 0xf];
    }
    out[digits] = b'\r';
    out[digits + 1] = b'\n';
    digits + 2
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
    use super::{chunk_size_line, chunk_size_line_len, send_chunks_now, BATCH_FRAMES, SMALL_SEND};
    use bytes::Bytes;
    use tokio::io::AsyncReadExt;

    /// What a batch must look like on the wire: each chunk as size line, data, CRLF.
    fn chunked(chunks: &[Bytes]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn a_batch_goes_out_as_chunks_whether_copied_or_vectored() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            // Copied into one buffer (small events), then two sent as iovecs (past SMALL_SEND).
            // A batch longer than `BATCH_FRAMES` (none is today) goes out whole as well.
            let sizes = [
                vec![1, 30, 255],
                vec![200; BATCH_FRAMES],
                vec![SMALL_SEND + 1],
                vec![300; 2 * BATCH_FRAMES + 3],
            ];
            for sizes in sizes {
                let chunks: Vec<Bytes> =
                    sizes.iter().zip(b'a'..).map(|(&n, fill)| Bytes::from(vec![fill; n])).collect();
                let expected = chunked(&chunks);
                server.writable().await.unwrap();
                assert_eq!(send_chunks_now(&server, &chunks).unwrap(), None, "loopback takes it at once");
                let mut got = vec![0u8; expected.len()];
                let read = client.read_exact(&mut got);
                // A batch cut short would leave the read waiting: a failure, not a hang.
                let read = tokio::time::timeout(std::time::Duration::from_secs(10), read).await;
                assert!(read.is_ok(), "{} frames: the batch did not arrive whole", sizes.len());
                assert_eq!(got, expected, "sizes {sizes:?}");
            }
        });
    }

    #[test]
    fn what_a_full_socket_did_not_take_comes_back_whole() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use tokio::io::AsyncWriteExt;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            // Small buffers on both sides: the socket takes part of a batch and no more.
            socket2::SockRef::from(&server).set_send_buffer_size(8192).unwrap();
            socket2::SockRef::from(&client).set_recv_buffer_size(8192).unwrap();
            // A batch of three groups of iovecs, each frame a different byte, to a client
            // that does not read yet.
            let chunks: Vec<Bytes> =
                (1..=2 * BATCH_FRAMES as u8 + 3).map(|fill| Bytes::from(vec![fill; 4000])).collect();
            let expected = chunked(&chunks);
            server.writable().await.unwrap();
            let rest = send_chunks_now(&server, &chunks).unwrap().expect("the socket takes part of 140 KB");
            assert!(
                !rest.is_empty() && rest.len() < expected.len(),
                "{} of {} bytes left",
                rest.len(),
                expected.len()
            );
            let reader = tokio::spawn(async move {
                let mut got = Vec::new();
                client.read_to_end(&mut got).await.unwrap();
                assert_eq!(got.len(), expected.len(), "bytes on the wire");
                assert!(got == expected, "the bytes on the wire differ from the batch sent");
            });
            server.write_all(&rest).await.unwrap();
            drop(server);
            reader.await.unwrap();
        });
    }

    #[test]
    fn chunk_sizes_in_hex() {
        for len in [0usize, 1, 9, 10, 15, 16, 255, 256, 4096, 65535, 1 << 40, usize::MAX] {
            let mut out = [0u8; 18];
            let n = chunk_size_line(&mut out, len);
            assert_eq!(&out[..n], format!("{len:x}\r\n").as_bytes());
            assert_eq!(chunk_size_line_len(len), n);
        }
    }
}
