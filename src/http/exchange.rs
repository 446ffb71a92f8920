//! The plain-data contract between the HTTP core and the application that answers.
//!
//! Owns: `IncomingRequest` (what the core hands over once head and body are read),
//! `Reply` (the one-shot way back), `ResponseStart`, and the `Dispatcher` trait the
//! application implements.
//! Does not own: how the application runs (PHP fibers, or a Rust closure in tests and in
//! the benchmark ceiling) — both go through exactly these types.
//!
//! Invariant: nothing here holds a PHP value; every type is `Send` and crosses threads.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Method, StatusCode, Uri, Version};
use tokio::sync::oneshot;

pub use super::body_memory::BodyRoom;
use super::fields::Headers;
use super::header_list::HeaderList;
use super::in_place::{Armed, InPlace, Written};
use super::stream::{StreamEvents, StreamShared};

/// Request line and headers, as parsed by hyper (h1) or decoded from HPACK (h2).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestHead {
    pub id: u64,
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    /// The fields, as bytes until something needs a map (`fields`).
    pub headers: Headers,
    /// The client: the peer, or the address trusted proxies gave (`trusted_proxies`).
    pub remote: SocketAddr,
    pub local: SocketAddr,
    pub tls: bool,
    /// The trace the access log records (made only when it is on; else the application
    /// makes one from the headers when asked).
    pub trace: Option<crate::ops::trace::Trace>,
}

impl RequestHead {
    /// The head of a plaintext HTTP/1.1 request read by via's own paths (`h1`,
    /// `stream_conn`), with the server's next request id.
    pub fn http11(
        ids: &std::sync::atomic::AtomicU64,
        (method, uri, headers): (Method, Uri, Headers),
        remote: SocketAddr,
        local: SocketAddr,
    ) -> Self {
        let id = ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        Self { id, method, uri, version: Version::HTTP_11, headers, remote, local, tls: false, trace: None }
    }
}

/// One uploaded file, spooled to a temporary file while the body was read.
///
/// The file is removed when this value is dropped, unless the application moved it away.
#[derive(Debug)]
pub struct UploadedFile {
    pub field: String,
    /// The file name without directories, as PHP's `name`.
    pub name: String,
    /// The file name as the client sent it (PHP 8.1's `full_path`).
    pub full_path: String,
    pub content_type: String,
    pub path: PathBuf,
    pub size: u64,
    /// PHP's `UPLOAD_ERR_*` code; 0 = ok, 4 = no file was selected.
    pub error: i64,
}

impl Drop for UploadedFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            // NotFound is expected when the application renamed the file.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The request body, read completely (and bounded) before the application sees it.
#[derive(Debug, Default)]
pub enum RequestBody {
    #[default]
    Empty,
    Bytes(Bytes),
    /// `multipart/form-data`: fields in arrival order and spooled files. PHP gives no raw
    /// body for multipart requests either.
    Multipart {
        fields: Vec<(String, Bytes)>,
        files: Vec<UploadedFile>,
    },
}

/// How long what a client still sends of a refused body is read and dropped before its
/// HTTP/1.1 connection closes: closed at once, the socket answers those bytes with a
/// reset, which can reach the client before it read the answer (RFC 9112 §9.6).
pub const REFUSED_BODY_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a request body was not accepted.
#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Timeout,
    TooManyFiles,
    TooManyFields,
    Malformed(String),
    /// The client went away or sent garbage framing.
    Io(String),
    /// Spooling an upload failed on our side (disk full, permissions).
    Storage(String),
    /// The bodies read at once would have passed `max_body_memory`.
    NoRoom,
}

/// What a request whose reply was dropped unanswered is answered: 503 while the server (or
/// the worker) stops — its task was cancelled, or it never reached one —, else 500 (the
/// application lost it).
pub fn unanswered_status(stopping: bool) -> StatusCode {
    if stopping {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

impl BodyError {
    /// Refused while the client may still be sending the body.
    pub fn before_its_end(&self) -> bool {
        matches!(self, Self::TooLarge | Self::NoRoom)
    }
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge => f.write_str("request body too large"),
            Self::Timeout => f.write_str("request body not received in time"),
            Self::TooManyFiles => f.write_str("too many uploaded files"),
            Self::TooManyFields => f.write_str("too many form fields"),
            Self::Malformed(m) => write!(f, "malformed body: {m}"),
            Self::Io(m) => write!(f, "reading the body failed: {m}"),
            Self::Storage(m) => write!(f, "storing an upload failed: {m}"),
            Self::NoRoom => f.write_str("refused, bodies fill max_body_memory"),
        }
    }
}

impl std::error::Error for BodyError {}

/// A request ready for the application.
#[derive(Debug)]
pub struct IncomingRequest {
    pub head: RequestHead,
    pub body: RequestBody,
    /// The room the body takes of `max_body_memory`, given back with the request.
    pub body_room: BodyRoom,
    pub reply: Reply,
}

/// The body of a response.
pub enum ResponseBodySource {
    Full(Bytes),
    /// Chunks written later into the shared stream; with a heartbeat, an event stream
    /// that sends a comment after that long without an event.
    Stream {
        stream: Arc<StreamShared>,
        heartbeat: Option<std::time::Duration>,
    },
}

impl ResponseBodySource {
    /// A plain streamed body (no heartbeat).
    pub fn stream(stream: Arc<StreamShared>) -> Self {
        Self::Stream { stream, heartbeat: None }
    }
}

/// Status, headers and body source: what starts a response.
pub struct ResponseStart {
    pub status: StatusCode,
    /// A custom reason phrase (HTTP/1 only; HTTP/2 has none).
    pub reason: Option<Bytes>,
    pub headers: HeaderList,
    pub body: ResponseBodySource,
}

impl ResponseStart {
    pub fn full(status: StatusCode, headers: HeaderList, body: Bytes) -> Self {
        Self { status, reason: None, headers, body: ResponseBodySource::Full(body) }
    }

    /// Drops an answer no connection will write: a stream's reader end is dropped with
    /// it, which tells the stream's writer its peer is gone (the stream, its task and its
    /// registry entry end; holding on to the stream alone would keep them).
    pub fn discard(self) {
        if let ResponseBodySource::Stream { stream, .. } = self.body {
            drop(stream.body());
        }
    }
}

/// The way back to the connection. Sending consumes it; dropping it unsent makes the core
/// answer 500 (the application lost the request).
#[derive(Default)]
pub struct Reply {
    /// `None` once sent, and in the empty reply (`default`), which answers nothing.
    to: Option<ReplyTo>,
}

enum ReplyTo {
    /// A connection task waits for the answer.
    Waiting(oneshot::Sender<ResponseStart>),
    /// A connection task waits for the answer to its request `n`, in the connection's slot.
    Slot(Arc<ReplySlot>, u64),
    /// The answer goes straight to `ReplySink` under the request's id.
    Sink(Arc<dyn ReplySink>, u64),
}

/// Takes the answers of requests that no task waits for: a worker's link writes them to
/// the master as they come, with no channel and no task per request.
pub trait ReplySink: Send + Sync {
    /// The answer to request `id`; false when it cannot reach the client any more. (Takes
    /// the reply's reference: a streamed answer keeps the sink for its task.)
    fn send(self: Arc<Self>, id: u64, start: ResponseStart) -> bool;
    /// Request `id` was dropped unanswered.
    fn unanswered(&self, id: u64);
    /// Whether answers still reach their clients.
    fn is_open(&self) -> bool;
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").field("open", &self.is_open()).finish()
    }
}

impl Reply {
    pub fn new() -> (Self, oneshot::Receiver<ResponseStart>) {
        let (tx, rx) = oneshot::channel();
        (Self { to: Some(ReplyTo::Waiting(tx)) }, rx)
    }

    /// A reply that hands the answer of request `id` to `sink`.
    pub fn to_sink(sink: Arc<dyn ReplySink>, id: u64) -> Self {
        Self { to: Some(ReplyTo::Sink(sink, id)) }
    }

    /// Sends the response start. `false` when nobody waits any more: the client left or
    /// the request timeout already answered 504.
    pub fn send(mut self, start: ResponseStart) -> bool {
        match self.to.take() {
            Some(ReplyTo::Waiting(tx)) => tx.send(start).map_err(ResponseStart::discard).is_ok(),
            Some(ReplyTo::Slot(slot, n)) => slot.put(n, start),
            Some(ReplyTo::Sink(sink, id)) => sink.send(id, start),
            None => false,
        }
    }

    /// Whether the connection still waits for this response.
    pub fn is_open(&self) -> bool {
        match &self.to {
            Some(ReplyTo::Waiting(tx)) => !tx.is_closed(),
            Some(ReplyTo::Slot(slot, n)) => slot.waits_for(*n),
            Some(ReplyTo::Sink(sink, _)) => sink.is_open(),
            None => false,
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        // A waiting task sees its channel close (or its slot's reply gone); a sink is told.
        match self.to.take() {
            Some(ReplyTo::Sink(sink, id)) => sink.unanswered(id),
            Some(ReplyTo::Slot(slot, n)) => slot.unanswered(n),
            _ => {}
        }
    }
}

/// The way back for the requests of one HTTP/1.1 connection, one request at a time: made
/// with the connection and reused, where a `oneshot` channel per request was an allocation
/// (aligned, so off the allocator's fast path) and its free, ~250 instructions of a small
/// request's. `next` gives the reply of the connection's next request; `answer` waits for
/// it. A reply of an earlier request finds the slot moved on: it is too late, as a reply
/// whose receiver was dropped.
///
/// A slot made `with_writer` writes a small whole answer to the socket as it is given,
/// while its connection has armed it (`arm`; `in_place`); the answer's waiter then learns
/// it was `Written`.
pub struct ReplySlot {
    state: parking_lot::Mutex<SlotState>,
    /// The request the connection waits for, 0 once it stopped waiting (timed out, or
    /// gone). Written under the lock; `Reply::is_open` (asked with every answer) reads it
    /// without.
    waiting: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct SlotState {
    /// The request whose answer the slot takes.
    current: u64,
    answer: Option<ResponseStart>,
    /// The current request's answer was written in place.
    written: Option<Written>,
    /// The current request's reply was dropped unsent.
    unanswered: bool,
    waker: Option<Waker>,
    /// The connection's writer of answers in place (`in_place`), if it has one.
    writer: Option<Box<InPlace>>,
    /// What the current request's handler holds after its client left, until its reply
    /// is given or dropped (`SlotAnswer::leave`).
    kept: Option<Box<dyn Send>>,
}

impl SlotState {
    /// The current request's answer is in (given, written or dropped).
    fn settled(&self) -> bool {
        self.answer.is_some() || self.written.is_some() || self.unanswered
    }

    /// The settled outcome, taken; the connection's armed request comes back to `armed`.
    fn take(&mut self, armed: &mut Option<Armed>) -> Option<Result<Answered, Unanswered>> {
        let outcome = if let Some(w) = self.written.take() {
            Ok(Answered::Written(w))
        } else if let Some(start) = self.answer.take() {
            Ok(Answered::Start(start))
        } else if self.unanswered {
            Err(Unanswered)
        } else {
            return None;
        };
        *armed = self.writer.as_mut().and_then(|w| w.armed.take());
        Some(outcome)
    }
}

/// A request's answer, as its connection gets it from the slot.
pub enum Answered {
    /// To be written by the connection.
    Start(ResponseStart),
    /// Written to the socket where it was given (`in_place`).
    Written(Written),
}

/// The reply of a request was dropped without an answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Unanswered;

impl ReplySlot {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { state: parking_lot::Mutex::new(SlotState::default()), waiting: 0.into() })
    }

    /// A slot that writes answers in place with `writer` while armed.
    pub fn with_writer(writer: Box<InPlace>) -> Arc<Self> {
        let state = SlotState { writer: Some(writer), ..SlotState::default() };
        Arc::new(Self { state: parking_lot::Mutex::new(state), waiting: 0.into() })
    }

    /// The reply of the connection's next request, and its number for `answer`. (The
    /// connection waits for one request at a time: the previous one is over.)
    pub fn next(self: &Arc<Self>) -> (Reply, u64) {
        let mut s = self.state.lock();
        s.current += 1;
        s.answer = None;
        s.written = None;
        s.unanswered = false;
        self.waiting.store(s.current, Ordering::Release);
        (Reply { to: Some(ReplyTo::Slot(Arc::clone(self), s.current)) }, s.current)
    }

    /// Waits for the answer to request `n`. Dropped before it is ready, the connection no
    /// longer waits: a late answer is refused.
    pub fn answer(&self, n: u64) -> SlotAnswer<'_> {
        SlotAnswer { slot: self, n, done: false, armed: None }
    }

    /// Lets the answer to request `n` be written in place, for `armed`: while its
    /// connection waits for it with its socket registered for readability (`in_place`'s
    /// invariant). Gives `armed` back when the answer is already in, or the slot has no
    /// writer.
    pub fn arm(&self, n: u64, armed: Armed) -> Result<(), Armed> {
        let mut s = self.state.lock();
        if s.current != n || s.settled() {
            return Err(armed);
        }
        match s.writer.as_mut() {
            Some(w) => {
                w.armed = Some(armed);
                Ok(())
            }
            None => Err(armed),
        }
    }

    /// Stops writing in place: the armed request, if the answer did not take it.
    pub fn disarm(&self) -> Option<Armed> {
        self.state.lock().writer.as_mut().and_then(|w| w.armed.take())
    }

    fn put(&self, n: u64, start: ResponseStart) -> bool {
        let waker = {
            let mut s = self.state.lock();
            // Only while the connection waits for request `n` (`waiting` is written under
            // the lock held here).
            if s.current != n || s.settled() {
                drop(s);
                start.discard();
                return false;
            }
            if !self.waits_for(n) {
                let kept = s.kept.take();
                drop(s);
                drop(kept);
                start.discard();
                return false;
            }
            let s = &mut *s;
            let given = match s.writer.as_mut() {
                Some(writer) => writer.write(start),
                None => Err(start),
            };
            match given {
                Ok(written) => {
                    let wakes = written.wakes();
                    s.written = Some(written);
                    if !wakes {
                        return true; // the client's next bytes wake the connection
                    }
                }
                Err(start) => s.answer = Some(start),
            }
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    fn unanswered(&self, n: u64) {
        let (waker, kept) = {
            let mut s = self.state.lock();
            if s.current != n {
                return;
            }
            s.unanswered = true;
            (s.waker.take(), s.kept.take())
        };
        drop(kept);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Lets go of what the handler of request `n` was left holding (`SlotAnswer::leave`),
    /// if it still holds it: its time is up.
    pub fn let_go(&self, n: u64) {
        let kept = {
            let mut s = self.state.lock();
            if s.current != n {
                return;
            }
            s.kept.take()
        };
        drop(kept);
    }

    fn waits_for(&self, n: u64) -> bool {
        self.waiting.load(Ordering::Acquire) == n
    }
}

/// The answer to one request of a `ReplySlot`.
pub struct SlotAnswer<'a> {
    slot: &'a ReplySlot,
    n: u64,
    done: bool,
    /// The request the slot was armed for, back when the answer did not use it.
    armed: Option<Armed>,
}

impl SlotAnswer<'_> {
    /// The armed request the slot gave back with the answer (not written in place).
    pub fn take_armed(&mut self) -> Option<Armed> {
        self.armed.take()
    }

    /// Stops waiting: the answer if it came after all, else `None` and a late answer is
    /// refused (and none is written in place).
    pub fn give_up(&mut self) -> Option<Result<Answered, Unanswered>> {
        let mut s = self.slot.state.lock();
        self.settled(&mut s).or_else(|| {
            self.stop_waiting(&mut s);
            None
        })
    }

    /// Stops waiting for good, the client gone: as `give_up`, and unless the answer is in
    /// already (it comes back, with `kept`), `kept` is held until the handler gives its
    /// reply or drops it, or `ReplySlot::let_go` — what the handler's work holds outlives
    /// the connection.
    pub fn leave<K: Send + 'static>(&mut self, kept: K) -> Result<(), (Result<Answered, Unanswered>, K)> {
        let mut s = self.slot.state.lock();
        if let Some(outcome) = self.settled(&mut s) {
            return Err((outcome, kept));
        }
        self.stop_waiting(&mut s);
        s.kept = Some(Box::new(kept));
        Ok(())
    }

    /// Done waiting: the outcome, if there is one already.
    fn settled(&mut self, s: &mut SlotState) -> Option<Result<Answered, Unanswered>> {
        self.done = true;
        if s.current != self.n {
            return Some(Err(Unanswered));
        }
        let outcome = s.take(&mut self.armed)?;
        s.waker = None;
        Some(outcome)
    }

    /// Nothing settled: a late answer is refused, and none is written in place.
    fn stop_waiting(&mut self, s: &mut SlotState) {
        self.slot.waiting.store(0, Ordering::Release);
        s.waker = None;
        self.armed = s.writer.as_mut().and_then(|w| w.armed.take());
    }
}

impl Future for SlotAnswer<'_> {
    type Output = Result<Answered, Unanswered>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut s = this.slot.state.lock();
        let outcome = if s.current != this.n {
            // Not reachable from a connection, which asks for its current request only.
            Err(Unanswered)
        } else {
            match s.take(&mut this.armed) {
                Some(outcome) => outcome,
                None => {
                    match &s.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => s.waker = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
            }
        };
        // Let go of the connection's task once answered (a late reply may outlive it).
        let waker = s.waker.take();
        drop(s);
        drop(waker);
        this.done = true;
        Poll::Ready(outcome)
    }
}

impl Drop for SlotAnswer<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let late = {
            let mut s = self.slot.state.lock();
            if s.current != self.n {
                return;
            }
            self.slot.waiting.store(0, Ordering::Release);
            s.waker = None;
            // Disarmed before the connection (and its socket) can go.
            let armed = s.writer.as_mut().and_then(|w| w.armed.take());
            if s.written.take().is_some() {
                if let Some(w) = &s.writer {
                    w.count_again(); // the going task releases the count the writer did
                }
            }
            (s.answer.take(), armed)
        };
        // Outside the lock: a stream's answer ends its stream.
        let (late, armed) = late;
        if let Some(late) = late {
            late.discard();
        }
        drop(armed);
    }
}

/// The application side of the core: receives requests, and stream events as a
/// `StreamEvents` (the stream module knows nothing of requests).
///
/// Implementations must not block: they run on Tokio threads.
pub trait Dispatcher: StreamEvents {
    /// Hands a request over. `Err` returns it when the application is gone; the core then
    /// answers 503.
    fn dispatch(&self, req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>>;

    /// After `begin_shutdown`: the listener is closed and the last connection is gone.
    fn drained(&self) {}

    /// How loaded the application is, for health and metrics (nothing known by default).
    fn load(&self) -> crate::ops::metrics::Load {
        crate::ops::metrics::Load::default()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records what a sink was told.
    #[derive(Default)]
    struct Log {
        events: Mutex<Vec<String>>,
        closed: std::sync::atomic::AtomicBool,
    }

    impl ReplySink for Log {
        fn send(self: Arc<Self>, id: u64, start: ResponseStart) -> bool {
            self.events.lock().unwrap().push(format!("send {id} {}", start.status.as_u16()));
            self.is_open()
        }
        fn unanswered(&self, id: u64) {
            self.events.lock().unwrap().push(format!("unanswered {id}"));
        }
        fn is_open(&self) -> bool {
            !self.closed.load(std::sync::atomic::Ordering::Relaxed)
        }
    }

    fn ok() -> ResponseStart {
        ResponseStart::full(StatusCode::OK, HeaderList::new(), Bytes::new())
    }

    /// A sink hears of every request exactly once: its answer, or that it was dropped.
    #[test]
    fn a_sink_hears_once_of_every_request() {
        let log = Arc::new(Log::default());
        let sink = || Arc::clone(&log) as Arc<dyn ReplySink>;
        assert!(Reply::to_sink(sink(), 1).send(ok()));
        drop(Reply::to_sink(sink(), 2));
        let open = Reply::to_sink(sink(), 3);
        assert!(open.is_open());
        log.closed.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(!open.is_open());
        assert!(!open.send(ok()), "a closed sink says the answer did not get through");
        assert_eq!(*log.events.lock().unwrap(), ["send 1 200", "unanswered 2", "send 3 200"]);
    }

    /// Polls `f` once, with a waker that counts its wakes.
    pub(in crate::http) fn poll_once<F: Future + Unpin>(f: &mut F, wakes: &Arc<Wakes>) -> Poll<F::Output> {
        let waker = Waker::from(Arc::clone(wakes));
        Pin::new(f).poll(&mut Context::from_waker(&waker))
    }

    /// Counts the wakes of a waker.
    #[derive(Default)]
    pub(in crate::http) struct Wakes(pub std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_slot_answers_each_request_of_its_connection_once() {
        let slot = ReplySlot::new();
        let wakes = Arc::new(Wakes::default());
        for _ in 0..3 {
            let (reply, n) = slot.next();
            let mut answer = slot.answer(n);
            assert!(poll_once(&mut answer, &wakes).is_pending());
            assert!(reply.is_open());
            let sent = std::thread::spawn(move || reply.send(ok())).join().unwrap();
            assert!(sent);
            let Poll::Ready(Ok(Answered::Start(start))) = poll_once(&mut answer, &wakes) else {
                panic!("the answer")
            };
            assert_eq!(start.status, StatusCode::OK);
        }
        assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 3, "one wake per answer");
    }

    #[test]
    fn a_slot_sees_a_reply_dropped_unsent() {
        let slot = ReplySlot::new();
        let wakes = Arc::new(Wakes::default());
        let (reply, n) = slot.next();
        let mut answer = slot.answer(n);
        assert!(poll_once(&mut answer, &wakes).is_pending());
        drop(reply);
        assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(matches!(poll_once(&mut answer, &wakes), Poll::Ready(Err(Unanswered))));
    }

    #[test]
    fn a_late_reply_is_refused_and_touches_no_later_request() {
        let slot = ReplySlot::new();
        let wakes = Arc::new(Wakes::default());
        // The connection gives up on the first request (its timeout answered 504).
        let (late, n) = slot.next();
        drop(slot.answer(n));
        assert!(!late.is_open());
        // The next request is served while the first one's handler still holds its reply.
        let (reply, m) = slot.next();
        let mut answer = slot.answer(m);
        assert!(!late.is_open(), "the slot moved on");
        assert!(!late.send(ok()), "too late");
        assert!(poll_once(&mut answer, &wakes).is_pending(), "not taken for the next request's");
        drop(Reply { to: Some(ReplyTo::Slot(Arc::clone(&slot), n)) }); // another of the first's
        assert!(poll_once(&mut answer, &wakes).is_pending(), "its drop is not the next one's");
        assert!(reply.send(ok()));
        assert!(matches!(poll_once(&mut answer, &wakes), Poll::Ready(Ok(_))));
    }

    struct Quiet;
    impl StreamEvents for Quiet {
        fn stream_event(&self, _: crate::http::StreamEvent) {}
    }

    fn streamed() -> (ResponseStart, Arc<StreamShared>) {
        let stream = StreamShared::new(Arc::new(Quiet));
        let start = ResponseStart {
            status: StatusCode::OK,
            reason: None,
            headers: HeaderList::new(),
            body: ResponseBodySource::stream(Arc::clone(&stream)),
        };
        (start, stream)
    }

    #[test]
    fn a_streamed_answer_nobody_waits_for_ends_its_stream() {
        // After a request timeout (the slot gave up) …
        let slot = ReplySlot::new();
        let (late, n) = slot.next();
        assert!(slot.answer(n).give_up().is_none());
        let (start, stream) = streamed();
        assert!(!late.send(start));
        assert!(stream.is_closed(), "its writer learns the peer is gone");
        // … on a connection whose task went while the answer waited in the slot …
        let slot = ReplySlot::new();
        let (reply, n) = slot.next();
        let answer = slot.answer(n);
        let (start, stream) = streamed();
        assert!(reply.send(start));
        drop(answer);
        assert!(stream.is_closed());
        // … and on a task's channel that is gone.
        let (reply, rx) = Reply::new();
        drop(rx);
        let (start, stream) = streamed();
        assert!(!reply.send(start));
        assert!(stream.is_closed());
    }

    #[test]
    fn what_a_left_handler_keeps_is_held_until_its_reply_settles() {
        struct Flag(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let kept = |dropped: &Arc<std::sync::atomic::AtomicBool>| Box::new(Flag(Arc::clone(dropped)));
        for answered in [true, false] {
            let slot = ReplySlot::new();
            let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (reply, n) = slot.next();
            assert!(slot.answer(n).leave(kept(&dropped)).is_ok());
            assert!(!reply.is_open(), "the handler sees its client gone");
            assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst), "held while the handler runs");
            if answered {
                assert!(!reply.send(ok()));
            } else {
                drop(reply);
            }
            assert!(
                dropped.load(std::sync::atomic::Ordering::SeqCst),
                "let go once it answered ({answered})"
            );
        }
        // An answer already in is given back, and nothing is kept.
        let slot = ReplySlot::new();
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (reply, n) = slot.next();
        assert!(reply.send(ok()));
        let back = slot.answer(n).leave(kept(&dropped));
        assert!(matches!(back, Err((Ok(Answered::Start(_)), _))), "the answer and what would be kept");
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
        // Its time up, it is let go of before the handler answers.
        let (reply, n) = slot.next();
        assert!(slot.answer(n).leave(kept(&dropped)).is_ok());
        slot.let_go(n);
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
        assert!(!reply.send(ok()));
    }

    #[test]
    fn an_answer_sent_before_it_is_awaited_waits_in_the_slot() {
        let slot = ReplySlot::new();
        let wakes = Arc::new(Wakes::default());
        let (reply, n) = slot.next();
        assert!(reply.send(ok()));
        let mut answer = slot.answer(n);
        assert!(matches!(poll_once(&mut answer, &wakes), Poll::Ready(Ok(_))));
        assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[test]
    fn a_waiting_task_sees_the_answer_or_the_drop() {
        let (reply, mut rx) = Reply::new();
        assert!(reply.is_open());
        assert!(reply.send(ok()));
        assert_eq!(rx.try_recv().unwrap().status, StatusCode::OK);
        let (reply, mut rx) = Reply::new();
        drop(reply);
        assert!(rx.try_recv().is_err());
        let (reply, rx) = Reply::new();
        drop(rx);
        assert!(!reply.is_open());
        assert!(!reply.send(ok()));
    }
}
