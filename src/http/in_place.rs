//! HTTP/1.1 answers written to the socket by whoever gives them, not by the connection's
//! task.
//!
//! Owns: writing a small whole answer straight to a waiting HTTP/1.1 connection's socket
//! from the thread that completes its `Reply` (the outbox's forwarder, the PHP thread that
//! drives the I/O with `reactor = php`, a worker link's reader), with the connection's
//! framing, compression and ops accounting, and what the connection's task is told of it.
//! Does not own: when a connection lets its answers be written so (`h1::Conn::exchange`
//! arms its slot), the slot that carries the answer (`exchange::ReplySlot`), anything that
//! has to wait — a stream, a large body, a partial write, a close — which the task does.
//!
//! Why: an answer handed to the connection's task costs the task a wake-up and a poll of
//! its own (a scheduler hand-off, the slot's lock again, the write, a read that finds
//! nothing, re-registering its timer) between two requests. Written where it is given, the
//! task is polled once a request: when the next request's bytes arrive. (Workerman writes
//! its answers in the handler's call, to the same end.)
//!
//! Invariant: the slot is armed only while its connection's task waits for the answer with
//! its socket registered for readability and nothing of a next request read, and is
//! disarmed (under the slot's lock) before that task stops waiting — so `fd` is open and
//! nobody else writes to it while `write` may use it, and a task whose answer was written
//! here is woken by its client's next bytes, or by `write` itself when it must act.

use std::os::fd::RawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use http::header::{HeaderValue, CONTENT_LENGTH};
use tokio::time::Instant;

use super::answer::{encode_head, shape, Delimit, Outgoing, Shaped};
use super::exchange::{ResponseBodySource, ResponseStart};
use super::framing;
use super::service::ServerShared;
use super::stream_conn::SMALL_SEND;
use crate::ops::Ticket;
use crate::shutdown::Shutdown;

/// What a connection's request leaves with its slot while armed: what its answer's
/// writer needs to know of the request.
pub struct Armed {
    pub is_head: bool,
    pub accept_encoding: Option<HeaderValue>,
    /// The request's ops ticket, when ops are active.
    pub ticket: Option<Box<Ticket>>,
}

/// An answer written here, as the connection's task learns of it.
#[derive(Debug)]
pub struct Written {
    /// The connection closes after it (the application or a shutdown asked).
    pub close: bool,
    /// When it was written: the keep-alive wait starts there.
    pub at: Instant,
    /// What the socket did not take at once (the task writes it, within the write timeout).
    pub rest: Option<Vec<u8>>,
    /// The socket refused it: the connection is gone.
    pub failed: bool,
}

impl Written {
    /// The task must act now (it is not waiting for the client's next bytes).
    pub fn wakes(&self) -> bool {
        self.close || self.failed || self.rest.is_some()
    }
}

/// A connection's writer of answers in place.
pub struct InPlace {
    fd: RawFd,
    shared: Arc<ServerShared>,
    shutdown: Shutdown,
    /// The head (and small body) being written; kept for its capacity.
    out: Vec<u8>,
    /// Set while the connection's task waits for the current request's answer.
    pub armed: Option<Armed>,
}

impl InPlace {
    /// The writer for the connection on `fd`, which must stay open while it is armed.
    pub fn new(fd: RawFd, shared: Arc<ServerShared>, shutdown: Shutdown) -> Box<Self> {
        Box::new(Self { fd, shared, shutdown, out: Vec::new(), armed: None })
    }

    /// Writes `start` when armed and it is a whole body of at most `SMALL_SEND` bytes;
    /// gives it back otherwise, still armed. A larger body is compressed, if at all, by the
    /// connection's task, off this thread; a small one worth compressing (from
    /// `compression_min_size`, 1 KiB by default) is compressed here.
    pub fn write(&mut self, start: ResponseStart) -> Result<Written, ResponseStart> {
        let small = matches!(&start.body, ResponseBodySource::Full(b) if b.len() <= SMALL_SEND);
        if !small || self.armed.is_none() {
            return Err(start);
        }
        let Some(Armed { is_head, accept_encoding, ticket }) = self.armed.take() else { unreachable!() };
        let shared = &*self.shared;
        let stats = &shared.stats;
        let shaped = shape(start, is_head, accept_encoding.as_ref(), &shared.config, stats);
        if ticket.is_some() {
            let Outgoing::Full(body) = &shaped.body else { unreachable!("a whole body stays whole") };
            let bytes = if is_head { 0 } else { body.len() as u64 };
            shared.ops.answered(ticket, shaped.status, Some(bytes));
        }
        let close = shaped.close || self.shutdown.fired();
        self.out.clear();
        let body = encode_whole(&mut self.out, &shaped, is_head, close);
        self.out.extend_from_slice(body);
        drop(shaped);
        let (rest, failed) = match send(self.fd, &self.out) {
            Ok(n) if n == self.out.len() => (None, false),
            Ok(n) => (Some(self.out[n..].to_vec()), false),
            Err(_) => (None, true),
        };
        // Answered: no longer in flight (the task that counted it forgets its count when it
        // takes this, or gives it back if it goes first: `count_again`).
        stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        Ok(Written { close, at: Instant::now(), rest, failed })
    }
}

impl InPlace {
    /// Counts a request whose answer was written here in flight again: for a connection's
    /// task that goes before it learns of the write, and releases its own count as it goes.
    pub fn count_again(&self) {
        self.shared.stats.in_flight.fetch_add(1, Ordering::Relaxed);
    }
}

/// Appends the head of a whole answer to `out`, and returns the body to write after it
/// (none for a HEAD request). The answer of a status without a body, or of a HEAD request
/// that declared its length, carries no `content-length` of its own.
pub fn encode_whole<'a>(out: &mut Vec<u8>, shaped: &'a Shaped, is_head: bool, close: bool) -> &'a [u8] {
    let Outgoing::Full(body) = &shaped.body else { unreachable!("only whole bodies") };
    let delimit = if !framing::status_allows_body(shaped.status)
        || (is_head && shaped.headers.contains_key(&CONTENT_LENGTH))
    {
        Delimit::None
    } else {
        Delimit::Length(body.len() as u64)
    };
    encode_head(out, shaped.status, shaped.reason.as_deref(), &shaped.headers, delimit, close);
    if is_head {
        &[]
    } else {
        body
    }
}

/// What `send` took of `bytes` without waiting (0 when the socket's buffer is full).
fn send(fd: RawFd, bytes: &[u8]) -> std::io::Result<usize> {
    loop {
        // SAFETY: `fd` is the armed connection's open socket (module invariant); `bytes`
        // is valid for its length.
        let n = unsafe {
            libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = std::io::Error::last_os_error();
        match e.kind() {
            std::io::ErrorKind::Interrupted => continue,
            std::io::ErrorKind::WouldBlock => return Ok(0),
            _ => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::Ordering::SeqCst;
    use std::task::Poll;

    use bytes::Bytes;
    use http::StatusCode;

    use super::*;
    use crate::http::exchange::tests::{poll_once, Wakes};
    use crate::http::exchange::{Answered, ReplySlot};
    use crate::http::header_list::HeaderList;
    use crate::shutdown::Trigger;

    /// A connection's slot with a writer to `sock`'s peer, and the server's state.
    fn slot_for(sock: &UnixStream, shutdown: &Trigger) -> (Arc<ReplySlot>, Arc<ServerShared>) {
        let shared = Arc::new(crate::http::h1::tests::shared(|_| {}));
        let writer = InPlace::new(sock.as_raw_fd(), Arc::clone(&shared), shutdown.subscribe());
        (ReplySlot::with_writer(writer), shared)
    }

    fn armed() -> Armed {
        Armed { is_head: false, accept_encoding: None, ticket: None }
    }

    fn answer(body: &'static [u8]) -> ResponseStart {
        ResponseStart::full(StatusCode::OK, HeaderList::new(), Bytes::from_static(body))
    }

    fn read_some(sock: &mut UnixStream) -> String {
        let mut got = vec![0; 4096];
        let n = sock.read(&mut got).unwrap();
        String::from_utf8_lossy(&got[..n]).into_owned()
    }

    #[test]
    fn an_armed_slot_writes_the_answer_and_wakes_nobody() {
        let (server, mut client) = UnixStream::pair().unwrap();
        let trigger = Trigger::new();
        let (slot, shared) = slot_for(&server, &trigger);
        let wakes = Arc::new(Wakes::default());
        for round in 0..2 {
            let (reply, n) = slot.next();
            let mut waiting = slot.answer(n);
            assert!(poll_once(&mut waiting, &wakes).is_pending());
            assert!(slot.arm(n, armed()).is_ok());
            shared.stats.in_flight.fetch_add(1, SeqCst); // as the connection counts it
            assert!(reply.send(answer(b"hi")));
            assert_eq!(wakes.0.load(SeqCst), 0, "round {round}: the client's bytes wake the task");
            assert_eq!(shared.stats.in_flight.load(SeqCst), 0, "answered");
            let wire = read_some(&mut client);
            assert!(wire.starts_with("HTTP/1.1 200 OK\r\n"), "{wire}");
            assert!(wire.contains("content-length: 2\r\n") && wire.ends_with("\r\n\r\nhi"), "{wire}");
            let Poll::Ready(Ok(Answered::Written(w))) = poll_once(&mut waiting, &wakes) else {
                panic!("written")
            };
            assert!(!w.close && !w.failed && w.rest.is_none(), "{w:?}");
        }
    }

    /// A small body worth compressing (past `compression_min_size`, within `SMALL_SEND`)
    /// is compressed where it is written: its head names the coding and its length, and the
    /// body decodes to what the application gave.
    #[test]
    fn a_small_compressible_answer_is_written_compressed() {
        use std::io::Read as _;
        let (server, mut client) = UnixStream::pair().unwrap();
        let trigger = Trigger::new();
        let (slot, shared) = slot_for(&server, &trigger);
        let text: String = (0..80).map(|i| format!("<li>row {i:04}</li>")).collect();
        assert!((shared.config.compression.min_size..=SMALL_SEND).contains(&text.len()), "{}", text.len());
        let wakes = Arc::new(Wakes::default());
        let (reply, n) = slot.next();
        let mut waiting = slot.answer(n);
        assert!(poll_once(&mut waiting, &wakes).is_pending());
        let br = Armed { accept_encoding: Some(http::HeaderValue::from_static("gzip, br")), ..armed() };
        assert!(slot.arm(n, br).is_ok());
        let mut headers = HeaderList::new();
        headers.append(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/html"));
        assert!(reply.send(ResponseStart::full(StatusCode::OK, headers, Bytes::from(text.clone()))));
        assert_eq!(wakes.0.load(SeqCst), 0);
        let mut wire = vec![0; 8192];
        let got = client.read(&mut wire).unwrap();
        let wire = &wire[..got];
        let end = wire.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole head") + 4;
        let (head, body) = (String::from_utf8_lossy(&wire[..end]), &wire[end..]);
        assert!(head.contains("content-encoding: br\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}\r\n", body.len())), "{head}");
        assert!(body.len() < text.len() / 2, "{} bytes of {}", body.len(), text.len());
        let mut decoded = String::new();
        brotli::Decompressor::new(body, 4096).read_to_string(&mut decoded).unwrap();
        assert_eq!(decoded, text);
        assert!(matches!(poll_once(&mut waiting, &wakes), Poll::Ready(Ok(Answered::Written(_)))));
    }

    #[test]
    fn what_must_wait_goes_to_the_task_which_gets_its_request_back() {
        let (server, _client) = UnixStream::pair().unwrap();
        let trigger = Trigger::new();
        let (slot, _) = slot_for(&server, &trigger);
        let wakes = Arc::new(Wakes::default());
        let (reply, n) = slot.next();
        let mut waiting = slot.answer(n);
        assert!(poll_once(&mut waiting, &wakes).is_pending());
        let ticketless = Armed { is_head: true, ..armed() };
        assert!(slot.arm(n, ticketless).is_ok());
        static LARGE: [u8; SMALL_SEND + 1] = [b'x'; SMALL_SEND + 1];
        assert!(reply.send(answer(&LARGE)));
        assert_eq!(wakes.0.load(SeqCst), 1);
        assert!(matches!(poll_once(&mut waiting, &wakes), Poll::Ready(Ok(Answered::Start(_)))));
        assert!(waiting.take_armed().is_some_and(|a| a.is_head), "the request comes back");
        assert!(slot.disarm().is_none());
        // Not armed (the connection did not ask): given to the task as before.
        let (reply, n) = slot.next();
        let mut waiting = slot.answer(n);
        assert!(reply.send(answer(b"hi")));
        assert!(matches!(poll_once(&mut waiting, &wakes), Poll::Ready(Ok(Answered::Start(_)))));
        // Already answered: arming is refused.
        let (reply, n) = slot.next();
        assert!(reply.send(answer(b"hi")));
        assert!(slot.arm(n, armed()).is_err());
    }

    #[test]
    fn a_full_socket_a_gone_client_or_a_shutdown_wake_the_task() {
        let wakes = Arc::new(Wakes::default());
        let written = |slot: &Arc<ReplySlot>, body: &'static [u8]| {
            let (reply, n) = slot.next();
            let mut waiting = slot.answer(n);
            assert!(poll_once(&mut waiting, &wakes).is_pending());
            assert!(slot.arm(n, armed()).is_ok());
            let before = wakes.0.load(SeqCst);
            assert!(reply.send(answer(body)));
            assert_eq!(wakes.0.load(SeqCst), before + 1, "woken");
            let Poll::Ready(Ok(Answered::Written(w))) = poll_once(&mut waiting, &wakes) else {
                panic!("written")
            };
            w
        };
        // A socket whose buffer is full: nothing or part of it is taken; the rest is the task's.
        let (server, client) = UnixStream::pair().unwrap();
        server.set_nonblocking(true).unwrap();
        while std::io::Write::write(&mut &server, &[0; 4096]).is_ok() {}
        let trigger = Trigger::new();
        let (slot, _) = slot_for(&server, &trigger);
        let w = written(&slot, b"hi");
        assert!(w.rest.as_ref().is_some_and(|r| r.ends_with(b"\r\n\r\nhi")), "{w:?}");
        // A client gone: the connection is.
        drop(client.shutdown(std::net::Shutdown::Both));
        let w = written(&slot, b"hi");
        assert!(w.failed, "{w:?}");
        // A shutdown: the answer says `connection: close`, and the task closes.
        let (server, mut client) = UnixStream::pair().unwrap();
        let (slot, _) = slot_for(&server, &trigger);
        trigger.fire();
        let w = written(&slot, b"hi");
        assert!(w.close, "{w:?}");
        assert!(read_some(&mut client).contains("connection: close\r\n"));
    }

    #[test]
    fn a_task_that_goes_before_it_learns_of_the_write_releases_one_count() {
        let (server, _client) = UnixStream::pair().unwrap();
        let trigger = Trigger::new();
        let (slot, shared) = slot_for(&server, &trigger);
        let (reply, n) = slot.next();
        let waiting = slot.answer(n);
        assert!(slot.arm(n, armed()).is_ok());
        shared.stats.in_flight.fetch_add(1, SeqCst);
        assert!(reply.send(answer(b"hi")));
        drop(waiting); // the connection goes (its runtime stops, say)
        shared.stats.in_flight.fetch_sub(1, SeqCst); // ... releasing the count it took
        assert_eq!(shared.stats.in_flight.load(SeqCst), 0);
    }
}
