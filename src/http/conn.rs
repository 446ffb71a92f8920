//! Per-connection I/O: h2c sniffing and the two connection timeouts.
//!
//! Owns: `Watched` (the I/O wrapper hyper reads through: it replays the bytes read while
//! sniffing, then fails a pending read once the header or keep-alive deadline passes, and
//! a write that stalls past the write timeout) and `Activity` (requests in flight on one
//! connection).
//! Does not own: the request timeout (the service answers 504) or the body timeout.
//!
//! Why in the I/O layer: hyper's own `header_read_timeout` also runs while a keep-alive
//! connection is idle, so it cannot give the two timeouts separate values. A deadline that
//! is checked where hyper waits for bytes costs one atomic load per read and no extra task.
//!
//! Invariants: `Watched` lives on the connection task; `Activity` is shared with request
//! guards, which may drop on other tasks (hyper runs each h2 stream on its own task).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::stats::Stats;
use super::timer::Timer;
use crate::config::Limits;

/// The client connection preface of HTTP/2 (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    // +1 so that 0 can mean "not set".
    epoch().elapsed().as_millis() as u64 + 1
}

fn instant_at(ms: u64) -> Instant {
    epoch() + Duration::from_millis(ms.saturating_sub(1))
}

/// Requests in flight on one connection, and when it became idle.
pub struct Activity {
    active: AtomicUsize,
    idle_since: AtomicU64,
    head_since: AtomicU64,
    waker: AtomicWaker,
    /// Bytes read on an HTTP/1.1 connection, and the count past which a read fails
    /// (`u64::MAX`: none). Set while a chunked body is read (`WireCap`).
    read: AtomicU64,
    read_cap: AtomicU64,
}

impl Activity {
    /// A fresh connection: the client must start a request within the header timeout —
    /// over HTTP/2 too, where a connection that sends only its preface, or a HEADERS frame
    /// without END_HEADERS, starts no request (issue 8, D5). After its first request an
    /// HTTP/2 connection is held to the keep-alive timeout only: its frames are not read
    /// here, so a later slow header section cannot be told from an idle connection.
    pub fn new() -> Arc<Self> {
        let now = now_ms();
        Arc::new(Self {
            active: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            head_since: AtomicU64::new(now),
            waker: AtomicWaker::new(),
            read: AtomicU64::new(0),
            read_cap: AtomicU64::new(u64::MAX),
        })
    }

    pub fn request_started(&self) {
        self.active.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Release);
    }

    /// Called when a response is complete (or abandoned).
    pub fn request_finished(&self) {
        if self.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle_since.store(now_ms(), Ordering::Release);
            // The connection task may be parked without a deadline; let it arm one.
            self.waker.wake();
        }
    }

    pub fn in_flight(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Counts `n` bytes read; false once they pass the cap a chunked body set.
    fn read_within_cap(&self, n: usize) -> bool {
        let read = self.read.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        read <= self.read_cap.load(Ordering::Relaxed)
    }

    fn saw_bytes(&self) {
        if self.active.load(Ordering::Acquire) == 0 && self.head_since.load(Ordering::Acquire) == 0 {
            self.head_since.store(now_ms(), Ordering::Release);
        }
    }

    /// The instant at which a pending read should give up, if any.
    fn deadline(&self, header_timeout: Duration, keepalive: Duration) -> Option<(u64, bool)> {
        if self.active.load(Ordering::Acquire) > 0 {
            return None;
        }
        let head = self.head_since.load(Ordering::Acquire);
        if head != 0 {
            return Some((head + header_timeout.as_millis() as u64, true));
        }
        let idle = self.idle_since.load(Ordering::Acquire);
        Some((idle + keepalive.as_millis() as u64, false))
    }
}

/// How far an HTTP/1.1 chunked body may run ahead of its data on the wire.
///
/// Chunk-size lines, extensions and trailers are overhead the client chooses: hyper parses
/// them byte by byte, and neither `max_body_size` nor `max_body_memory` sees them, as they
/// decode to nothing (a size line of a million zeros is valid and is a chunk of none). A
/// client could keep the connection's thread parsing such lines at line rate until
/// `body_timeout`. While the cap lives, the connection's reads fail once they pass
/// `WIRE_SLACK` plus twice the data the body gave so far: any chunk of 6 bytes or more
/// fits, a flood of framing costs at most about a MiB of parsing. hyper then ends the
/// connection (no answer can follow a body it cannot finish).
pub struct WireCap {
    activity: Arc<Activity>,
    start: u64,
    data: AtomicU64,
}

/// What a chunked body may read beyond twice its data: hyper's read-ahead (its buffer
/// grows to ~400 KiB), its limits on extensions (16 KiB) and trailers, and room to spare.
pub const WIRE_SLACK: u64 = 1 << 20;

impl WireCap {
    pub fn new(activity: &Arc<Activity>) -> Self {
        let start = activity.read.load(Ordering::Relaxed);
        activity.read_cap.store(start + WIRE_SLACK, Ordering::Relaxed);
        Self { activity: Arc::clone(activity), start, data: AtomicU64::new(0) }
    }

    /// The body gave `n` more bytes of data.
    pub fn took(&self, n: u64) {
        let data = self.data.fetch_add(n, Ordering::Relaxed) + n;
        let cap = self.start.saturating_add(WIRE_SLACK).saturating_add(data.saturating_mul(2));
        self.activity.read_cap.store(cap, Ordering::Relaxed);
    }
}

impl Drop for WireCap {
    fn drop(&mut self) {
        self.activity.read_cap.store(u64::MAX, Ordering::Relaxed);
    }
}

/// Replays the bytes consumed while sniffing, then reads from the socket; fails a pending
/// read with `TimedOut` once the connection has been idle, or has been sending one header
/// section, for too long.
pub struct Watched<I> {
    inner: I,
    /// Read before hyper took over (h2c and event-stream sniffing); hyper reads them first.
    replay: Bytes,
    activity: Arc<Activity>,
    stats: Arc<Stats>,
    h2: bool,
    header_timeout: Duration,
    keepalive: Duration,
    /// The header and keep-alive deadlines' timer.
    timer: Timer,
    write_timeout: Duration,
    /// Armed while the socket refuses writes: a client that stops reading is cut off.
    write_stall: Option<Pin<Box<Sleep>>>,
}

impl<I> Watched<I> {
    pub fn new(
        inner: I,
        replay: Bytes,
        activity: Arc<Activity>,
        stats: Arc<Stats>,
        h2: bool,
        limits: &Limits,
    ) -> Self {
        Self {
            inner,
            replay,
            activity,
            stats,
            h2,
            header_timeout: limits.header_timeout,
            keepalive: limits.keepalive_timeout,
            timer: Timer::default(),
            write_timeout: limits.write_timeout,
            write_stall: None,
        }
    }

    /// Passes a write result through, failing it once writes stalled for too long.
    fn watch_write<T>(&mut self, cx: &mut Context<'_>, res: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match res {
            Poll::Pending => {
                let timeout = self.write_timeout;
                let stall = self.write_stall.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match stall.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.stats.write_timeouts.fetch_add(1, Ordering::Relaxed);
                        Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "write timeout: client stopped reading",
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
            ready => {
                self.write_stall = None;
                ready
            }
        }
    }

    fn timed_out(&self, reading_head: bool) -> io::Error {
        if reading_head {
            self.stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
            io::Error::new(io::ErrorKind::TimedOut, "header timeout: client too slow")
        } else {
            self.stats.idle_timeouts.fetch_add(1, Ordering::Relaxed);
            io::Error::new(io::ErrorKind::TimedOut, "keep-alive timeout")
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let read = if this.replay.is_empty() {
            Pin::new(&mut this.inner).poll_read(cx, buf)
        } else {
            let n = this.replay.len().min(buf.remaining());
            buf.put_slice(&this.replay[..n]);
            this.replay.advance(n);
            Poll::Ready(Ok(()))
        };
        match read {
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len() - before;
                if !this.h2 && n > 0 {
                    if !this.activity.read_within_cap(n) {
                        buf.set_filled(before);
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "chunked body framing out of proportion to its data",
                        )));
                    }
                    this.activity.saw_bytes();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                // With requests in flight there is no deadline; the last one to finish
                // wakes this task (possibly from another task, for h2) to arm the idle
                // timer. A finish between our check and hyper's next read is caught by
                // the registration below.
                this.activity.waker.register(cx.waker());
                let Some((deadline, reading_head)) =
                    this.activity.deadline(this.header_timeout, this.keepalive)
                else {
                    return Poll::Pending;
                };
                match this.timer.poll_until(cx, instant_at(deadline).into()) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Err(this.timed_out(reading_head))),
                }
            }
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, b);
        self.watch_write(cx, res)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch_write(cx, res)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let res = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch_write(cx, res)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Reads until the bytes either are the HTTP/2 preface or cannot become it.
/// Returns what was read (to be replayed) and whether the client speaks h2c.
pub async fn sniff_h2c(stream: &mut TcpStream, timeout: Duration) -> io::Result<(Bytes, bool)> {
    let mut buf = BytesMut::with_capacity(1024);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = tokio::time::timeout_at(deadline, stream.read_buf(&mut buf))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request before header timeout"))??;
        if n == 0 || buf.len() >= H2_PREFACE.len() || !H2_PREFACE.starts_with(&buf) {
            let is_h2 = buf.len() >= H2_PREFACE.len() && buf[..H2_PREFACE.len()] == H2_PREFACE[..];
            return Ok((buf.freeze(), is_h2));
        }
    }
}
