//! Streamed response bodies: a bounded-by-policy byte queue shared by one writer (the
//! application) and one reader (hyper, on a Tokio thread).
//!
//! Owns: the queue, end-of-stream, peer-gone detection and the drain notification.
//! Does not own: the policy when the queue is long (the writer decides: suspend, drop,
//! close); this module only counts bytes and tells.
//!
//! Invariants: the mutex is held only for queue operations and a write to a lent socket
//! (one non-blocking `send`), never across a wake-up or a dispatcher call; `Closed` is
//! reported at most once, and only when the writer had not finished.

use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use parking_lot::Mutex;

use super::stream_conn::SMALL_SEND;
use super::wake_batch::Wake;

static NEXT_STREAM_ID: AtomicU64 = AtomicU64::new(1);

/// Who pushes on this thread, which decides what a push to a lent socket does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pusher {
    /// Any other thread: it takes the socket back and wakes the writer.
    Other,
    /// A thread that drives the I/O (an I/O thread, or the PHP thread under
    /// `reactor = php`): it writes a small event to the lent socket itself.
    DrivesIo,
    /// A PHP thread whose I/O runs on threads of its own (decision 0029): it queues the
    /// event, leaves the socket lent, and defers the write to its next batch for an I/O
    /// thread (`wake_batch::Wake::Flush`). It leaves socket writes to them, as it leaves its
    /// answers (decision 0023).
    Defers,
}

thread_local! {
    static PUSHER: std::cell::Cell<Pusher> = const { std::cell::Cell::new(Pusher::Other) };
}

/// Marks the calling thread as one that drives the I/O (see `Pusher::DrivesIo`).
pub fn drives_io_here() {
    PUSHER.set(Pusher::DrivesIo);
}

/// Sets what the calling thread's pushes to lent sockets do while it serves PHP
/// (`wake_batch::install`): `Some(true)`, it drives the I/O and writes them itself;
/// `Some(false)`, it defers them to the I/O threads; `None` (it stopped serving), it takes
/// the socket back and wakes the writer. Set each time, so a PHP thread that drove one
/// server's I/O does not write to the sockets of the next one, served by I/O threads.
pub(super) fn serving_here(drives_io: Option<bool>) {
    PUSHER.set(match drives_io {
        Some(true) => Pusher::DrivesIo,
        Some(false) => Pusher::Defers,
        None => Pusher::Other,
    });
}

/// What happened to a streamed response body, reported to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent {
    /// The queue fell below the low-water mark after the writer asked to be told.
    Drained(u64),
    /// The peer went away (TCP close, RST_STREAM, timeout) before the writer finished.
    Closed(u64),
}

/// Who hears what happens to streamed bodies: the application (every `exchange::Dispatcher`
/// is one). Implementations must not block: they run on Tokio threads.
pub trait StreamEvents: Send + Sync + 'static {
    /// A streamed body changed state. Called at most once per `Closed`.
    fn stream_event(&self, event: StreamEvent);
}

/// The peer is gone; nothing more can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamClosed;

/// The writer gave up mid-body (e.g. the handler threw): the peer must see an incomplete
/// response — a reset connection (HTTP/1) or RST_STREAM (HTTP/2) — not a clean end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamAborted;

impl std::fmt::Display for StreamAborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response aborted by the application")
    }
}

impl std::error::Error for StreamAborted {}

/// A stream's state, laid out for fan-out to thousands of streams, where each event finds
/// its stream cold in the cache: what every event touches — the lock (the `Mutex`'s first
/// byte), the flags, the oldest chunk and the reader's waker — fills the first cache line
/// of `StreamShared`; the byte count, the chunks behind the first and the drain mark fill
/// the second. The chunk most streams hold at a time is kept in the state itself, not in a
/// queue's separate buffer (a third line, written by the PHP thread and read by the I/O
/// thread). `tests::the_hot_fields_share_a_cache_line` checks the layout.
#[derive(Default)]
#[repr(C)]
struct State {
    finished: bool,
    aborted: bool,
    closed: bool,
    /// `Closed` was reported to the dispatcher (at most once).
    reported: bool,
    /// The socket a push may write to itself (`StreamShared::arm`), or none.
    direct: DirectFd,
    /// The oldest queued chunk (`None`: the queue is empty).
    first: Option<Bytes>,
    reader: Option<Waker>,
    // The second line.
    queued: usize,
    /// Chunks the reader took, ever (wrapping): whether a full queue moved (`stalled_for`).
    taken: u32,
    /// When a push or a flush last wrote to the lent socket, in `coarse_ms` (0: not since
    /// the writer took the socket back), for the heartbeat: events written so put it off too.
    lent_sent: u32,
    /// The chunks queued behind `first`, oldest first.
    rest: VecDeque<Bytes>,
    drain_below: DrainMark,
}

/// The bytes queued at most before `Drained` is reported, or none armed: one word, where
/// an `Option<usize>` took two and pushed the capacity out of the state's second line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DrainMark(usize);

impl DrainMark {
    const NONE: Self = Self(usize::MAX);

    /// Whether a mark is armed and `queued` is down to it.
    fn reached(self, queued: usize) -> bool {
        self != Self::NONE && queued <= self.0
    }
}

impl Default for DrainMark {
    fn default() -> Self {
        Self::NONE
    }
}

/// The socket of a stream whose writer waits and lets pushes write to it themselves, or an
/// I/O thread's flush write what they queued (`StreamShared::arm`): its descriptor plus
/// one, so that it is one word in the state's first line, and 0 (the default) when none is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct DirectFd(u32);

impl DirectFd {
    const NONE: Self = Self(0);

    fn of(fd: RawFd) -> Self {
        Self(u32::try_from(fd).map_or(0, |fd| fd.wrapping_add(1)))
    }

    fn get(self) -> Option<RawFd> {
        self.0.checked_sub(1).map(|fd| fd as RawFd)
    }
}

/// What a queued chunk costs beyond its bytes, in the queue's count: its `Bytes` handle,
/// its slot and its allocation's overhead. Counting payload alone, a client that reads
/// nothing let 1-byte writes queue ~48 MB behind a 1 MiB capacity.
const CHUNK_COST: usize = 64;

/// A chunk of `len` bytes, as the queue counts it (and a worker's stream window: `ipc::ToLink::Credit`).
pub fn cost(len: usize) -> usize {
    len.saturating_add(CHUNK_COST)
}

impl State {
    fn push_chunk(&mut self, chunk: Bytes) {
        self.queued += cost(chunk.len());
        if self.first.is_none() {
            self.first = Some(chunk);
        } else {
            self.rest.push_back(chunk);
        }
    }

    fn pop_chunk(&mut self) -> Option<Bytes> {
        let chunk = self.first.take()?;
        self.first = self.rest.pop_front();
        self.queued -= cost(chunk.len());
        self.taken = self.taken.wrapping_add(1);
        Some(chunk)
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    fn clear(&mut self) {
        self.first = None;
        self.rest.clear();
        self.queued = 0;
    }
}

/// Aligned to a cache line: its first two lines are `State`'s (see there).
#[repr(C, align(64))]
pub struct StreamShared {
    state: Mutex<State>,
    /// Bytes `try_push` may keep queued (`usize::MAX` = unbounded).
    capacity: usize,
    id: u64,
    events: Arc<dyn StreamEvents>,
    /// Since when a full queue was seen with no chunk taken, and the count of chunks taken
    /// then (`stalled_for`; touched only when a push finds the queue full).
    stall: Mutex<Option<(Instant, u32)>>,
    /// What the socket did not take of what a push or a flush wrote to it (already framed,
    /// so not a queued chunk): the writer sends it before anything queued (`disarm`). Taken
    /// under `state`'s lock, and counted in its `queued`.
    unsent: Mutex<Option<Vec<u8>>>,
}

/// What a bounded push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Queued; this many bytes are queued now.
    Queued(usize),
    /// Written to the socket by the push itself (the writer was armed: `arm`); nothing
    /// is queued. Its bytes are the pusher's to count.
    Sent,
    /// Not queued: it does not fit in the capacity (a slow client).
    Full,
    /// Not queued: the peer is gone or the stream ended.
    Closed,
}

/// What an armed writer learns when it takes its socket back (`StreamShared::disarm`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Disarmed {
    /// What the socket did not take of a push's chunk: sent first.
    pub unsent: Option<Vec<u8>>,
    /// How long ago (at least) pushes last wrote to the socket, if they did.
    pub sent_ago: Option<Duration>,
}

/// The monotonic clock's coarse reading (the last timer tick: no time-stamp counter read,
/// ~3 ns), in wrapping milliseconds, never 0; for `lent_sent`, once per event.
fn coarse_ms() -> u32 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write; CLOCK_MONOTONIC_COARSE exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    let ms = (ts.tv_sec as u64).wrapping_mul(1000).wrapping_add(ts.tv_nsec as u64 / 1_000_000);
    (ms as u32).max(1)
}

/// What two `coarse_ms` readings may say beyond the time between them: a tick of the
/// coarse clock (1–10 ms, as the kernel's timer frequency makes it) and the millisecond cut
/// off.
fn coarse_margin() -> Duration {
    static MARGIN: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *MARGIN.get_or_init(|| {
        let mut res = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `res` is a valid timespec to write.
        let tick = if unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut res) } == 0 {
            Duration::new(res.tv_sec as u64, res.tv_nsec as u32)
        } else {
            Duration::from_millis(10)
        };
        tick + Duration::from_millis(1)
    })
}

/// Sends `flat` to the lent socket `fd` at once; the bytes it took (0: none, the socket full
/// or broken — the writer finds out which).
fn send_now(fd: RawFd, flat: &[u8]) -> usize {
    // SAFETY: `fd` is an armed writer's socket, open while it is armed (the caller holds
    // the stream's lock, which `disarm` takes before the writer touches the socket again);
    // `flat` is valid for its length. Never blocks (`MSG_DONTWAIT`); a closed peer is an
    // error, not a SIGPIPE.
    let sent =
        unsafe { libc::send(fd, flat.as_ptr().cast(), flat.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    usize::try_from(sent).unwrap_or(0)
}

/// What a push's own write to an armed writer's socket did (`StreamShared::send_direct`).
enum Direct {
    Sent,
    Partly,
    Not,
}

impl std::fmt::Debug for StreamShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamShared").field("id", &self.id).finish()
    }
}

impl StreamShared {
    /// An unbounded stream (the writer applies its own high-water mark).
    pub fn new(events: Arc<dyn StreamEvents>) -> Arc<Self> {
        Self::with_capacity(events, usize::MAX)
    }

    /// A stream whose `try_push` refuses what would take the queue past `capacity` bytes.
    pub fn with_capacity(events: Arc<dyn StreamEvents>, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            id: NEXT_STREAM_ID.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(State::default()),
            capacity,
            events,
            stall: Mutex::new(None),
            unsent: Mutex::new(None),
        })
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The bytes queued at most for a `try_push` of `len` bytes to be taken: half the
    /// capacity, or less when the chunk needs more room than half (none for a chunk larger
    /// than the capacity, which an empty queue takes). A sender that found the queue full
    /// waits for `notify_when_drained` of this mark, then is sure to be taken.
    pub fn room_mark(&self, len: usize) -> usize {
        (self.capacity / 2).min(self.capacity.saturating_sub(cost(len)))
    }

    /// Queues `chunk` unless it would exceed the capacity. A chunk larger than the whole
    /// capacity still goes into an empty queue, so no event is impossible to send.
    pub fn try_push(self: &Arc<Self>, chunk: Bytes) -> PushOutcome {
        self.enqueue(chunk, true, super::wake_batch::wake)
    }

    /// `try_push`, with the wake-up it needs (the reader's, or a flush of the lent socket)
    /// handed to `wake`: a fan-out collects them and hands them over together
    /// (`wake_batch::Wakes`).
    pub fn try_push_then(self: &Arc<Self>, chunk: Bytes, wake: impl FnOnce(Wake)) -> PushOutcome {
        self.enqueue(chunk, true, wake)
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// For a push that found the queue full: how long the queue has been seen full with
    /// no chunk taken by the reader (zero the first time, or after the reader took one).
    /// An HTTP/2 client that grants a stream no window keeps its socket busy, so no
    /// connection write stalls and no write timeout fires; its stream's queue stays full,
    /// a megabyte a stream, for as long as the connection lives, unless the pusher cuts it
    /// off after this reaches `write_timeout`.
    pub fn stalled_for(&self) -> Duration {
        let taken = self.state.lock().taken;
        let now = Instant::now();
        let mut stall = self.stall.lock();
        match *stall {
            Some((since, at)) if at == taken => now.saturating_duration_since(since),
            _ => {
                *stall = Some((now, taken));
                Duration::ZERO
            }
        }
    }

    /// Queues a chunk for the peer whatever is queued already (the writer bounds itself:
    /// `Response::write` waits on `notify_when_drained`). Returns the bytes now queued.
    pub fn push(self: &Arc<Self>, chunk: Bytes) -> Result<usize, StreamClosed> {
        match self.enqueue(chunk, false, super::wake_batch::wake) {
            PushOutcome::Queued(queued) => Ok(queued),
            // (An unbounded push is always queued.)
            PushOutcome::Sent => Ok(0),
            PushOutcome::Closed | PushOutcome::Full => Err(StreamClosed),
        }
    }

    /// Queues `chunk` (an empty one only wakes the reader) and has `wake` wake the reader, or
    /// flush the lent socket it was queued behind (`Pusher::Defers`);
    /// with `bounded`, refuses it when the queue is not empty and it would pass the capacity.
    fn enqueue(self: &Arc<Self>, chunk: Bytes, bounded: bool, wake: impl FnOnce(Wake)) -> PushOutcome {
        let waker;
        let queued;
        {
            let mut s = self.state.lock();
            if s.closed || s.finished {
                return PushOutcome::Closed;
            }
            if bounded && s.queued > 0 && s.queued.saturating_add(cost(chunk.len())) > self.capacity {
                return PushOutcome::Full;
            }
            if let Some(fd) = s.direct.get() {
                // Lent: the writer waits, and what is queued waits for a flush (`Defers`).
                // A bounded push (an event of `send()` or a topic) of a small chunk writes it
                // itself on a thread that drives the I/O, when nothing is queued before it;
                // on a PHP thread with I/O threads, queues it and has an I/O thread write it.
                // Anything else is queued, and the writer, woken, takes the socket back.
                if bounded && !chunk.is_empty() {
                    match PUSHER.get() {
                        Pusher::DrivesIo if s.is_empty() => match self.send_direct(&mut s, fd, &chunk) {
                            Direct::Sent => return PushOutcome::Sent,
                            Direct::Partly => {
                                // The rest, already framed, is the writer's to send first.
                                let waker = s.reader.take();
                                drop(s);
                                if let Some(w) = waker {
                                    wake(Wake::Task(w));
                                }
                                return PushOutcome::Sent;
                            }
                            Direct::Not => {}
                        },
                        Pusher::Defers if super::stream_conn::framed_len(chunk.len()) <= SMALL_SEND => {
                            // The first chunk queued since the socket was lent asks for the
                            // flush; those behind it go with it.
                            let first = s.is_empty();
                            s.push_chunk(chunk);
                            let queued = s.queued;
                            drop(s);
                            if first {
                                wake(Wake::Flush(Arc::clone(self)));
                            }
                            return PushOutcome::Queued(queued);
                        }
                        _ => {}
                    }
                }
                s.direct = DirectFd::NONE;
            }
            if !chunk.is_empty() {
                s.push_chunk(chunk);
            }
            queued = s.queued;
            waker = s.reader.take();
        }
        if let Some(w) = waker {
            // `wake_batch`: from the PHP thread, with the next batch (one unpark of the I/O
            // thread per batch, not per stream); from any other thread, at once.
            wake(Wake::Task(w));
        }
        PushOutcome::Queued(queued)
    }

    /// For a thread that drives the I/O, the flush a push asked for (`Pusher::Defers`):
    /// writes what was queued while the socket was lent, framed, in one non-blocking `send`,
    /// under the lock, as a push that drives the I/O writes its own event. Returns the
    /// bytes written (unframed, as the writer counts them). Whatever it cannot write whole
    /// — more than one small send holds, a full or broken socket — it leaves to the writer,
    /// which it wakes with the socket taken back (the unsent rest of a partial send first).
    /// Nothing to do when the writer took the socket back meanwhile: it takes the queue too.
    pub(crate) fn flush_lent(&self) -> u64 {
        let mut drained = false;
        let (written, waker) = {
            let mut s = self.state.lock();
            let (Some(fd), Some(first)) = (s.direct.get(), &s.first) else { return 0 };
            let mut buf = crate::buf::Stack::<SMALL_SEND>::default();
            let framed = if s.rest.is_empty() {
                super::stream_conn::frame_small(std::slice::from_ref(first), &mut buf)
            } else {
                // Measured before anything is copied: thousands of events may wait here (a
                // loop of `send()` to one stream), and then the writer takes them.
                let mut total = 0;
                let fits = std::iter::once(first).chain(s.rest.iter()).all(|c| {
                    total += super::stream_conn::framed_len(c.len());
                    total <= SMALL_SEND
                });
                fits && {
                    let all: smallvec::SmallVec<[Bytes; 8]> =
                        std::iter::once(first).chain(s.rest.iter()).cloned().collect();
                    super::stream_conn::frame_small(&all, &mut buf)
                }
            };
            let sent = if framed { self.send_lent(&mut s, fd, buf.bytes()) } else { 0 };
            if sent == 0 {
                s.direct = DirectFd::NONE;
                (0, s.reader.take())
            } else {
                let mut written = 0u64;
                while let Some(chunk) = s.pop_chunk() {
                    written += chunk.len() as u64;
                }
                // Written in part: the socket went back to the writer with the rest.
                let waker = if s.direct == DirectFd::NONE { s.reader.take() } else { None };
                if s.drain_below.reached(s.queued) {
                    s.drain_below = DrainMark::NONE;
                    drained = true;
                }
                (written, waker)
            }
        };
        if drained {
            self.events.stream_event(StreamEvent::Drained(self.id));
        }
        if let Some(w) = waker {
            w.wake();
        }
        written
    }

    /// Writes `chunk`, framed as an HTTP/1.1 chunk, to the armed writer's socket `fd`, with
    /// `s` locked: the writer takes the lock before it touches the socket again (`disarm`),
    /// so nobody else writes to it meanwhile and it is open. `Not`: nothing was written
    /// (too large for one small send, the socket full or broken), for the caller to queue.
    /// `Partly`: the rest waits in `unsent`, counted as queued, and the writer is disarmed.
    fn send_direct(&self, s: &mut State, fd: RawFd, chunk: &Bytes) -> Direct {
        let mut buf = crate::buf::Stack::<SMALL_SEND>::default();
        if !super::stream_conn::frame_small(std::slice::from_ref(chunk), &mut buf) {
            return Direct::Not;
        }
        let flat = buf.bytes();
        match self.send_lent(s, fd, flat) {
            // Full (`EAGAIN`), or broken: queued, the writer finds out.
            0 => Direct::Not,
            n => {
                s.taken = s.taken.wrapping_add(1);
                if n == flat.len() {
                    Direct::Sent
                } else {
                    Direct::Partly
                }
            }
        }
    }

    /// Sends `flat` (framed events) to the lent socket `fd`, with `s` locked; the bytes the
    /// socket took (0: none). What it took puts the heartbeat off (`lent_sent`). The rest of
    /// a partial send waits in `unsent`, counted as queued, and the socket goes back to the
    /// writer.
    fn send_lent(&self, s: &mut State, fd: RawFd, flat: &[u8]) -> usize {
        let sent = send_now(fd, flat);
        if sent > 0 {
            s.lent_sent = coarse_ms();
            if sent < flat.len() {
                let rest = flat[sent..].to_vec();
                s.queued += cost(rest.len());
                s.direct = DirectFd::NONE;
                *self.unsent.lock() = Some(rest);
            }
        }
        sent
    }

    /// For the stream's writer, about to wait on an HTTP/1.1 socket `fd` with nothing to
    /// send: lets bounded pushes of small chunks write to it themselves from now on, or
    /// queue them for an I/O thread's flush (`flush_lent`); a fan-out then costs no wake-up
    /// and no poll of the writer per event. `false` when something is queued or the stream
    /// ended: the writer looks again instead. Until `disarm`, the writer must not write to
    /// or close the socket.
    pub(crate) fn arm(&self, fd: RawFd) -> bool {
        let mut s = self.state.lock();
        if s.closed || s.finished || !s.is_empty() {
            return false;
        }
        s.direct = DirectFd::of(fd);
        true
    }

    /// For an armed writer that was woken: takes the socket back (pushes queue again),
    /// waiting for a push that is writing to it. Says what a push left unsent, which the
    /// writer sends before anything else, and how long ago pushes last wrote.
    pub fn disarm(&self) -> Disarmed {
        let (disarmed, drained) = self.take_back();
        if drained {
            self.events.stream_event(StreamEvent::Drained(self.id));
        }
        disarmed
    }

    /// `disarm` under the lock; and whether the rest it took brought the queue down to a
    /// drain mark (reported outside the lock, as `poll_batch` does).
    fn take_back(&self) -> (Disarmed, bool) {
        let mut s = self.state.lock();
        s.direct = DirectFd::NONE;
        let was = std::mem::take(&mut s.lent_sent);
        let sent_ago = (was != 0).then(|| {
            // Coarse readings lag the time by up to a tick, and the milliseconds are cut
            // off: less that margin (`coarse_margin`), never more than the time passed.
            let ms = coarse_ms().wrapping_sub(was);
            Duration::from_millis(u64::from(ms)).saturating_sub(coarse_margin())
        });
        let unsent = self.unsent.lock().take().and_then(|rest| {
            // (A stream cleared since counts nothing queued, and has nothing more to send.)
            s.queued = s.queued.saturating_sub(cost(rest.len()));
            (!s.closed).then_some(rest)
        });
        let drained = unsent.is_some() && s.drain_below.reached(s.queued);
        if drained {
            s.drain_below = DrainMark::NONE;
        }
        (Disarmed { unsent, sent_ago }, drained)
    }

    /// Ends the body once the queue is flushed. Idempotent.
    pub fn finish(&self) {
        let waker = {
            let mut s = self.state.lock();
            s.finished = true;
            s.direct = DirectFd::NONE;
            s.reader.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Ends the body as broken: queued bytes are discarded and the peer sees a reset.
    ///
    /// The stream counts as closed at once (and `Closed` is reported): a client that stopped
    /// reading may never let hyper poll the body again, and the application must not wait
    /// for that. The connection itself goes when hyper next polls, or at the write timeout.
    pub fn abort(&self) {
        let (waker, report) = {
            let mut s = self.state.lock();
            s.aborted = true;
            s.finished = true;
            s.closed = true;
            s.direct = DirectFd::NONE;
            s.clear();
            *self.unsent.lock() = None;
            s.drain_below = DrainMark::NONE;
            let report = !std::mem::replace(&mut s.reported, true);
            (s.reader.take(), report)
        };
        if let Some(w) = waker {
            w.wake();
        }
        if report {
            self.events.stream_event(StreamEvent::Closed(self.id));
        }
    }

    /// Marks the stream closed from the writer's side, e.g. when its response could not
    /// be started because the client was already gone. Reports nothing.
    pub fn close(&self) {
        let mut s = self.state.lock();
        s.closed = true;
        s.direct = DirectFd::NONE;
        s.clear();
        *self.unsent.lock() = None;
    }

    /// Whether the server cut the stream off (`abort`), not its client.
    pub fn is_aborted(&self) -> bool {
        self.state.lock().aborted
    }

    pub fn is_finished(&self) -> bool {
        self.state.lock().finished
    }

    pub fn queued(&self) -> usize {
        self.state.lock().queued
    }

    /// Counts progress the reader made further on, where this queue does not see it: a
    /// worker's stream, whose chunks wait in the master's queue behind a topic's frames
    /// that the client is taking (`workers::link`).
    pub fn note_progress(&self) {
        let mut s = self.state.lock();
        s.taken = s.taken.wrapping_add(1);
    }

    /// Chunks the reader took so far (wrapping): two readings differ when it made progress.
    pub fn taken(&self) -> u32 {
        self.state.lock().taken
    }

    /// Asks for a `Drained` event once at most `low_water` bytes are queued. Returns
    /// `false` (and arms nothing) when that is already so or the stream is closed. Of two
    /// marks asked for (two writers), the higher holds: the event comes as soon as one of
    /// them may go on, and the other asks again.
    pub fn notify_when_drained(&self, low_water: usize) -> bool {
        let mut s = self.state.lock();
        if s.closed || s.queued <= low_water {
            return false;
        }
        s.drain_below = match s.drain_below {
            DrainMark::NONE => DrainMark(low_water),
            DrainMark(armed) => DrainMark(armed.max(low_water)),
        };
        true
    }

    /// The reader half, handed to hyper as the response body.
    pub fn body(self: &Arc<Self>) -> StreamBody {
        StreamBody { shared: Arc::clone(self) }
    }
}

/// hyper's view of a streamed body. Dropping it before the end means the peer is gone.
pub struct StreamBody {
    shared: Arc<StreamShared>,
}

/// What `StreamBody::poll_batch` found after taking what was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polled {
    /// A limit was reached; more may be queued (poll again, no waker was registered).
    More,
    /// The queue is empty and the stream goes on: the task's waker is registered.
    Pending,
    /// The writer finished and everything queued was taken.
    Finished,
    /// The writer gave up (`StreamAborted`); nothing was taken.
    Aborted,
}

impl StreamBody {
    /// `StreamShared::arm`.
    pub(crate) fn arm(&self, fd: RawFd) -> bool {
        self.shared.arm(fd)
    }

    /// `StreamShared::disarm`.
    pub fn disarm(&self) -> Disarmed {
        self.shared.disarm()
    }

    /// For a reader that takes nothing for now (a worker's stream whose window in the
    /// master is used up): ready once the writer aborted the stream; else the task's waker
    /// is kept for the abort (or a chunk) to wake.
    pub fn poll_aborted(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.shared.state.lock();
        if s.aborted {
            return Poll::Ready(());
        }
        if !s.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.reader = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Takes the queued chunks, up to `max_frames` of them or until `max_bytes` are taken,
    /// and says what then holds — `poll_frame` until it stops being ready, in one lock:
    /// with thousands of streams an event finds each stream's state cold, and a fan-out
    /// brings one chunk a stream, which `poll_frame` takes in two visits (the chunk, then
    /// `Pending` to register the waker).
    pub fn poll_batch<A: smallvec::Array<Item = Bytes>>(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut smallvec::SmallVec<A>,
        max_frames: usize,
        max_bytes: usize,
    ) -> Polled {
        let shared = &self.shared;
        let mut drained = false;
        let polled = {
            let mut s = shared.state.lock();
            if s.aborted {
                return Polled::Aborted;
            }
            let (mut frames, mut bytes) = (0, 0);
            let polled = loop {
                if frames == max_frames || bytes >= max_bytes {
                    break Polled::More;
                }
                match s.pop_chunk() {
                    Some(chunk) => {
                        frames += 1;
                        bytes += chunk.len();
                        out.push(chunk);
                    }
                    None if s.finished => break Polled::Finished,
                    None => {
                        if !s.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            s.reader = Some(cx.waker().clone());
                        }
                        break Polled::Pending;
                    }
                }
            };
            if frames > 0 && s.drain_below.reached(s.queued) {
                s.drain_below = DrainMark::NONE;
                drained = true;
            }
            polled
        };
        if drained {
            shared.events.stream_event(StreamEvent::Drained(shared.id));
        }
        polled
    }
}

impl Body for StreamBody {
    type Data = Bytes;
    type Error = StreamAborted;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let shared = &self.shared;
        let mut drained = false;
        let out = {
            let mut s = shared.state.lock();
            if s.aborted {
                Poll::Ready(Some(Err(StreamAborted)))
            } else if let Some(chunk) = s.pop_chunk() {
                if s.drain_below.reached(s.queued) {
                    s.drain_below = DrainMark::NONE;
                    drained = true;
                }
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            } else if s.finished {
                Poll::Ready(None)
            } else {
                // Polled again by the same task after every event: keep its waker.
                if !s.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    s.reader = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        };
        if drained {
            shared.events.stream_event(StreamEvent::Drained(shared.id));
        }
        out
    }

    fn is_end_stream(&self) -> bool {
        let s = self.shared.state.lock();
        s.finished && s.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        let report = {
            let mut s = self.shared.state.lock();
            // (The rest of a push's partial send, if the writer never took it, was not sent.)
            let unsent = self.shared.unsent.lock().take().is_some();
            let complete = s.finished && s.is_empty() && !s.aborted && !unsent;
            s.closed = true;
            // The writer's socket may close once its body is gone.
            s.direct = DirectFd::NONE;
            s.clear();
            s.drain_below = DrainMark::NONE;
            !complete && !std::mem::replace(&mut s.reported, true)
        };
        if report {
            self.shared.events.stream_event(StreamEvent::Closed(self.shared.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Quiet;
    impl StreamEvents for Quiet {
        fn stream_event(&self, _: StreamEvent) {}
    }

    #[test]
    fn the_hot_fields_share_a_cache_line() {
        let s = StreamShared::new(Arc::new(Quiet));
        let base = Arc::as_ptr(&s) as usize;
        assert_eq!(base % 64, 0, "a stream's state starts a cache line");
        let state = s.state.data_ptr() as usize;
        assert_eq!(state - base, 8, "the lock's byte, then the state");
        // The lock byte, the flags, the first chunk and the reader's waker: the first line.
        let hot_end =
            state - base + std::mem::offset_of!(State, reader) + std::mem::size_of::<Option<Waker>>();
        assert!(hot_end <= 64, "hot fields end at byte {hot_end}");
        // The byte count, the rest of the queue, the drain mark and the capacity: the second.
        let second = (base + 64)..(base + 128);
        assert!(second.contains(&(state + std::mem::offset_of!(State, queued))));
        assert!(second.contains(&(std::ptr::addr_of!(s.capacity) as usize + 7)));
    }

    /// A reader that takes nothing (a worker's stream with its window used up) is woken by
    /// the writer's abort, and sees it, without taking what is queued.
    #[test]
    fn a_reader_that_takes_nothing_is_woken_by_an_abort() {
        let s = StreamShared::new(Arc::new(Quiet));
        let body = s.body();
        s.push(Bytes::from_static(b"queued")).unwrap();
        let count = Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        assert!(body.poll_aborted(&mut cx).is_pending());
        assert_eq!(s.queued(), cost(6), "nothing taken");
        s.abort();
        assert!(woken(&count) >= 1, "woken");
        assert!(body.poll_aborted(&mut cx).is_ready());
    }

    /// Counts its wake-ups.
    struct Count(std::sync::atomic::AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// A stream whose writer waits (its waker registered by a poll that found nothing) with
    /// `fd` lent, and its wake-up count.
    fn lent(fd: std::os::fd::RawFd) -> (Arc<StreamShared>, StreamBody, Arc<Count>, Waker) {
        lent_telling(fd, Arc::new(Quiet))
    }

    /// `lent`, with the stream's events told to `events`.
    fn lent_telling(
        fd: std::os::fd::RawFd,
        events: Arc<dyn StreamEvents>,
    ) -> (Arc<StreamShared>, StreamBody, Arc<Count>, Waker) {
        drives_io_here();
        let s = StreamShared::with_capacity(events, 1 << 20);
        let mut body = s.body();
        let count = Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut out = smallvec::SmallVec::<[Bytes; 4]>::new();
        assert_eq!(body.poll_batch(&mut Context::from_waker(&waker), &mut out, 16, 1 << 16), Polled::Pending);
        assert!(body.arm(fd));
        (s, body, count, waker)
    }

    fn woken(count: &Count) -> usize {
        count.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// What `r` (non-blocking) holds now.
    fn read_now(r: &mut impl std::io::Read) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    /// A connected loopback TCP pair: the writer's end, and the reader's (non-blocking).
    fn tcp_pair() -> (std::net::TcpStream, std::net::TcpStream) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let w = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (r, _) = l.accept().unwrap();
        r.set_nonblocking(true).unwrap();
        (w, r)
    }

    #[test]
    fn a_push_to_a_lent_socket_writes_its_chunk_itself_and_wakes_nobody() {
        use std::os::fd::AsRawFd;
        let (w, mut r) = tcp_pair();
        let (s, _body, count, _waker) = lent(w.as_raw_fd());
        assert_eq!(s.try_push(Bytes::from_static(b"data: a\n\n")), PushOutcome::Sent);
        assert_eq!(s.try_push(Bytes::from_static(b"data: b\n\n")), PushOutcome::Sent);
        let want = b"9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n";
        let mut got = Vec::new();
        while got.len() < want.len() {
            got.extend(read_now(&mut r));
        }
        assert_eq!(got, want);
        assert_eq!((s.queued(), s.taken()), (0, 2));
        assert_eq!(woken(&count), 0, "the writer slept on");
    }

    #[test]
    fn a_push_from_a_thread_that_does_not_drive_the_io_queues_and_wakes_the_writer() {
        use std::os::fd::AsRawFd;
        let (w, mut r) = tcp_pair();
        let (s, _body, count, _waker) = lent(w.as_raw_fd());
        let pushed = std::thread::spawn(move || s.try_push(Bytes::from_static(b"data: a\n\n")));
        assert!(matches!(pushed.join().unwrap(), PushOutcome::Queued(_)));
        assert_eq!(woken(&count), 1);
        assert!(read_now(&mut r).is_empty());
    }

    /// Pushes `chunks` from a thread that defers its writes (a PHP thread with I/O threads),
    /// collecting the wake-ups they ask for.
    fn pushed_deferring(s: &Arc<StreamShared>, chunks: &[&'static [u8]]) -> (Vec<PushOutcome>, Vec<Wake>) {
        let s = Arc::clone(s);
        let chunks = chunks.to_vec();
        std::thread::spawn(move || {
            serving_here(Some(false));
            let mut wakes = Vec::new();
            let outcomes = chunks
                .into_iter()
                .map(|c| s.try_push_then(Bytes::from_static(c), |w| wakes.push(w)))
                .collect();
            (outcomes, wakes)
        })
        .join()
        .unwrap()
    }

    fn flushes(wakes: Vec<Wake>) -> Vec<Arc<StreamShared>> {
        wakes
            .into_iter()
            .map(|w| match w {
                Wake::Flush(s) => s,
                Wake::Task(_) => panic!("a task woken"),
            })
            .collect()
    }

    #[test]
    fn pushes_that_defer_their_writes_queue_behind_a_lent_socket_and_one_flush_writes_them() {
        use std::os::fd::AsRawFd;
        let (w, mut r) = tcp_pair();
        let (s, _body, count, _waker) = lent(w.as_raw_fd());
        let (outcomes, wakes) = pushed_deferring(&s, &[b"data: a\n\n", b"data: b\n\n"]);
        assert!(outcomes.iter().all(|o| matches!(o, PushOutcome::Queued(_))), "{outcomes:?}");
        let asked = flushes(wakes);
        assert_eq!(asked.len(), 1, "the second chunk goes with the first's flush");
        assert!(read_now(&mut r).is_empty(), "nothing written by the pusher");
        assert_eq!(woken(&count), 0);
        // On a thread that drives the I/O (this test's: `lent`).
        assert_eq!(asked[0].flush_lent(), 18, "the events' bytes");
        let want = b"9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n";
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut got = Vec::new();
        while got.len() < want.len() && std::time::Instant::now() < deadline {
            got.extend(read_now(&mut r));
        }
        assert_eq!(got, want);
        assert_eq!((s.queued(), s.taken()), (0, 2));
        assert_eq!(woken(&count), 0, "the writer slept on");
        // Still lent: the next push asks for a flush again; a flush with nothing queued
        // (asked twice) does nothing.
        let (_, wakes) = pushed_deferring(&s, &[b"data: c\n\n"]);
        let again = flushes(wakes);
        assert_eq!(again[0].flush_lent(), 9);
        assert_eq!(again[0].flush_lent(), 0);
        assert_eq!(woken(&count), 0);
    }

    #[test]
    fn a_flush_reports_the_drain_mark_it_reached_and_puts_the_heartbeat_off() {
        use std::os::fd::AsRawFd;
        let (w, _r) = tcp_pair();
        let record = Arc::new(Record(Mutex::new(Vec::new())));
        let (s, body, count, _waker) =
            lent_telling(w.as_raw_fd(), Arc::clone(&record) as Arc<dyn StreamEvents>);
        let (_, wakes) = pushed_deferring(&s, &[b"data: a\n\n", b"data: b\n\n"]);
        assert!(s.notify_when_drained(0), "a sender waits for the queue to empty");
        assert_eq!(flushes(wakes)[0].flush_lent(), 18);
        assert_eq!(*record.0.lock(), [StreamEvent::Drained(s.id())]);
        assert_eq!(woken(&count), 0);
        // The writer, woken by its heartbeat's timer, learns that events went out.
        assert!(body.disarm().sent_ago.is_some(), "the flush's write puts the heartbeat off");
    }

    #[test]
    fn what_a_flush_cannot_write_whole_goes_to_the_writer_in_order() {
        use std::os::fd::AsRawFd;
        let (w, mut r) = tcp_pair();
        let (s, mut body, count, waker) = lent(w.as_raw_fd());
        // Small events queued behind the lent socket until together they pass one small
        // send: the flush leaves them all to the writer, woken, with the socket taken back.
        let event: &'static [u8] = &[b'e'; 700];
        let (_, wakes) = pushed_deferring(&s, &[event, event, event]);
        assert_eq!(flushes(wakes)[0].flush_lent(), 0);
        assert_eq!(woken(&count), 1);
        assert!(read_now(&mut r).is_empty());
        assert_eq!(body.disarm(), Disarmed::default());
        let mut out = smallvec::SmallVec::<[Bytes; 4]>::new();
        body.poll_batch(&mut Context::from_waker(&waker), &mut out, 16, 1 << 16);
        assert_eq!(out.len(), 3);
        // A flush after the writer took the socket back finds nothing to do: the writer
        // takes what is queued.
        assert!(body.arm(w.as_raw_fd()));
        let (_, wakes) = pushed_deferring(&s, &[b"x"]);
        let flush = flushes(wakes).pop().unwrap();
        assert_eq!(body.disarm(), Disarmed::default());
        assert_eq!(flush.flush_lent(), 0);
        assert_eq!(s.queued(), cost(1), "left for the writer");
        // A push from a thread that drives the I/O never overtakes what waits for a flush.
        out.clear();
        body.poll_batch(&mut Context::from_waker(&waker), &mut out, 16, 1 << 16);
        assert!(body.arm(w.as_raw_fd()));
        let (_, wakes) = pushed_deferring(&s, &[b"first"]);
        let before = woken(&count);
        assert!(matches!(s.try_push(Bytes::from_static(b"second")), PushOutcome::Queued(_)));
        assert_eq!(woken(&count), before + 1, "the writer is woken, with the socket taken back");
        assert_eq!(flushes(wakes)[0].flush_lent(), 0);
        out.clear();
        body.poll_batch(&mut Context::from_waker(&waker), &mut out, 16, 1 << 16);
        assert_eq!(out.as_slice(), ["first", "second"]);
        // A chunk too large for one small send is not deferred: the writer is woken.
        assert!(body.arm(w.as_raw_fd()));
        let big: &'static [u8] = &[b'x'; 4096];
        let before = woken(&count);
        let (outcomes, wakes) = pushed_deferring(&s, &[big]);
        assert!(matches!(outcomes[0], PushOutcome::Queued(_)));
        assert!(wakes.iter().all(|w| matches!(w, Wake::Task(_))) && wakes.len() == 1);
        wakes.into_iter().for_each(|w| {
            w.run_now();
        });
        assert_eq!(woken(&count), before + 1);
    }

    #[test]
    fn a_flush_into_a_full_socket_leaves_its_unsent_rest_to_the_writer() {
        use std::os::fd::AsRawFd;
        let (w, mut r) = tcp_pair();
        let (s, mut body, count, waker) = lent(w.as_raw_fd());
        let event: &'static [u8] = &[b'e'; 1900];
        let frame = [b"76c\r\n".as_slice(), event, b"\r\n"].concat();
        let mut whole = 0;
        let unsent = loop {
            let (_, wakes) = pushed_deferring(&s, &[event]);
            let written = flushes(wakes)[0].flush_lent();
            if woken(&count) > 0 {
                break body.disarm().unsent;
            }
            assert_eq!(written, 1900);
            whole += 1;
            assert!(whole < 1_000_000, "the socket never filled");
        };
        let mut out = smallvec::SmallVec::<[Bytes; 4]>::new();
        body.poll_batch(&mut Context::from_waker(&waker), &mut out, 16, 1 << 16);
        let mut want = frame.repeat(whole);
        match (&unsent, out.as_slice()) {
            (Some(_), []) => want.extend_from_slice(&frame),
            (None, [queued]) => assert_eq!(queued, &event),
            other => panic!("{other:?}"),
        }
        let sent_len = want.len() - unsent.as_ref().map_or(0, Vec::len);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut written = Vec::new();
        while written.len() < sent_len && std::time::Instant::now() < deadline {
            written.extend(read_now(&mut r));
        }
        written.extend(unsent.unwrap_or_default());
        assert!(written == want, "{} bytes written of {}", written.len(), want.len());
    }

    #[test]
    fn what_a_lent_socket_is_not_given_is_queued_in_order_for_the_writer() {
        use std::os::fd::AsRawFd;
        let (w, mut r) = tcp_pair();
        let (s, mut body, count, waker) = lent(w.as_raw_fd());
        // Too large for one small send: queued, the writer woken and the socket taken back,
        // so the small push after it queues behind it rather than overtake it.
        let big = Bytes::from(vec![b'x'; 4096]);
        assert!(matches!(s.try_push(big.clone()), PushOutcome::Queued(_)));
        assert_eq!(woken(&count), 1);
        assert!(matches!(s.try_push(Bytes::from_static(b"small")), PushOutcome::Queued(_)));
        assert!(read_now(&mut r).is_empty());
        assert_eq!(body.disarm(), Disarmed::default());
        let mut out = smallvec::SmallVec::<[Bytes; 4]>::new();
        body.poll_batch(&mut Context::from_waker(&waker), &mut out, 16, 1 << 16);
        assert_eq!(out.as_slice(), [big, Bytes::from_static(b"small")]);
        // An unbounded push (a response's own write) is always queued.
        assert!(body.arm(w.as_raw_fd()));
        assert_eq!(s.push(Bytes::from_static(b"w")), Ok(cost(1)));
        assert!(!body.arm(w.as_raw_fd()), "never lent with something queued");
        // Ending the stream takes the socket back too.
        out.clear();
        body.poll_batch(&mut Context::from_waker(&waker), &mut out, 16, 1 << 16);
        assert!(body.arm(w.as_raw_fd()));
        s.finish();
        assert_eq!(s.try_push(Bytes::from_static(b"late")), PushOutcome::Closed);
        assert!(!body.arm(w.as_raw_fd()));
    }

    #[test]
    fn a_full_lent_socket_leaves_the_push_or_its_unsent_rest_to_the_writer() {
        use std::os::fd::AsRawFd;
        let (w, mut r) = tcp_pair();
        let (s, mut body, count, waker) = lent(w.as_raw_fd());
        // Pushes, with nobody reading, until one is not written whole: it is written in
        // part (its rest waits for the writer, counted as queued) or not at all (queued).
        let event = Bytes::from(vec![b'e'; 1900]);
        let frame = [b"76c\r\n".as_slice(), &event, b"\r\n"].concat();
        let mut whole = 0;
        while s.try_push(event.clone()) == PushOutcome::Sent && s.queued() == 0 {
            whole += 1;
            assert!(whole < 1_000_000, "the socket never filled");
        }
        assert_eq!(woken(&count), 1, "the writer is woken to go on");
        // The writer takes the socket back, with what it must send first, then the queue.
        let unsent = body.disarm().unsent;
        assert_eq!(s.queued() == 0, unsent.is_some(), "an unsent rest is counted until taken");
        let mut out = smallvec::SmallVec::<[Bytes; 4]>::new();
        body.poll_batch(&mut Context::from_waker(&waker), &mut out, 16, 1 << 16);
        let mut want = frame.repeat(whole);
        let mut written = Vec::new();
        match (&unsent, out.as_slice()) {
            // Written in part: what went out and the rest make up the last frame.
            (Some(_), []) => want.extend_from_slice(&frame),
            (None, [queued]) => assert_eq!(queued, &event),
            other => panic!("{other:?}"),
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let sent_len = want.len() - unsent.as_ref().map_or(0, Vec::len);
        while written.len() < sent_len && std::time::Instant::now() < deadline {
            written.extend(read_now(&mut r));
        }
        written.extend(unsent.unwrap_or_default());
        assert!(written == want, "{} bytes written of {}", written.len(), want.len());
    }

    struct Record(Mutex<Vec<StreamEvent>>);
    impl StreamEvents for Record {
        fn stream_event(&self, e: StreamEvent) {
            self.0.lock().push(e);
        }
    }

    #[test]
    fn a_chunk_is_taken_once_the_queue_is_down_to_its_room_mark() {
        for len in [1, 10, 100, 400, 435, 436, 437, 600, 935, 936, 937, 1000, 1100] {
            for queued in (0..=1000).step_by(3) {
                let s = StreamShared::with_capacity(Arc::new(Record(Mutex::new(Vec::new()))), 1000);
                if queued > 0 {
                    s.push(Bytes::from(vec![b'q'; queued])).unwrap();
                }
                let fits = matches!(s.try_push(Bytes::from(vec![b'c'; len])), PushOutcome::Queued(_));
                if s.queued() <= s.room_mark(len) {
                    // Half the capacity alone was not enough: a chunk of 75 bytes after 40
                    // queued was refused while "drained", and the sender tried again, forever.
                    assert!(fits, "{len} bytes after {queued} queued (mark {})", s.room_mark(len));
                }
            }
        }
    }

    #[test]
    fn a_drain_mark_is_reported_once_when_reached() {
        let record = Arc::new(Record(Mutex::new(Vec::new())));
        let s = StreamShared::new(Arc::clone(&record) as Arc<dyn StreamEvents>);
        for chunk in [&b"aaaa"[..], b"bbbb", b"cccc"] {
            s.push(Bytes::from_static(chunk)).unwrap();
        }
        assert!(!s.notify_when_drained(3 * cost(4)), "at the mark already: nothing armed");
        assert!(s.notify_when_drained(cost(4)));
        let mut body = s.body();
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut seen = Vec::new();
        while let Poll::Ready(Some(Ok(_))) = Pin::new(&mut body).poll_frame(&mut cx) {
            seen.push(record.0.lock().len());
        }
        assert_eq!(seen, [0, 1, 1], "reported when the second chunk left (one chunk queued), once");
        assert_eq!(*record.0.lock(), [StreamEvent::Drained(s.id())]);
    }

    /// A sender waiting for room behind the rest of a push's partial send is told when the
    /// writer takes that rest: nothing else may be queued to take after it.
    #[test]
    fn taking_back_a_partial_sends_rest_reports_the_drain_mark_it_reached() {
        let record = Arc::new(Record(Mutex::new(Vec::new())));
        let s = StreamShared::with_capacity(Arc::clone(&record) as Arc<dyn StreamEvents>, 1024);
        // As `send_direct` leaves a partial send (its socket is not needed for this).
        *s.unsent.lock() = Some(vec![b'x'; 600]);
        s.state.lock().queued += cost(600);
        assert!(s.notify_when_drained(s.room_mark(900)));
        let body = s.body();
        assert_eq!(body.disarm().unsent.map(|r| r.len()), Some(600));
        assert_eq!(s.queued(), 0);
        assert_eq!(*record.0.lock(), [StreamEvent::Drained(s.id())]);
    }

    #[test]
    fn a_full_queue_counts_as_stalled_until_the_reader_takes_a_chunk() {
        let s = StreamShared::with_capacity(Arc::new(Quiet), 2 * cost(4));
        s.push(Bytes::from_static(b"aaaa")).unwrap();
        s.push(Bytes::from_static(b"bbbb")).unwrap();
        assert_eq!(s.try_push(Bytes::from_static(b"c")), PushOutcome::Full);
        assert_eq!(s.stalled_for(), Duration::ZERO, "first seen full");
        std::thread::sleep(Duration::from_millis(20));
        assert!(s.stalled_for() >= Duration::from_millis(20), "nothing taken since");
        let mut body = s.body();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(matches!(Pin::new(&mut body).poll_frame(&mut cx), Poll::Ready(Some(Ok(_)))));
        assert_eq!(s.stalled_for(), Duration::ZERO, "a chunk was taken: seen afresh");
    }

    #[test]
    fn of_two_drain_marks_the_higher_is_reported() {
        for marks in [[2 * cost(4), cost(4)], [cost(4), 2 * cost(4)]] {
            let record = Arc::new(Record(Mutex::new(Vec::new())));
            let s = StreamShared::new(Arc::clone(&record) as Arc<dyn StreamEvents>);
            for chunk in [&b"aaaa"[..], b"bbbb", b"cccc"] {
                s.push(Bytes::from_static(chunk)).unwrap();
            }
            for mark in marks {
                assert!(s.notify_when_drained(mark));
            }
            let mut body = s.body();
            let mut cx = Context::from_waker(std::task::Waker::noop());
            assert!(matches!(Pin::new(&mut body).poll_frame(&mut cx), Poll::Ready(Some(Ok(_)))));
            // Two chunks left: the writer that asked for two may go on, whichever asked last.
            assert_eq!(*record.0.lock(), [StreamEvent::Drained(s.id())], "marks {marks:?}");
        }
    }

    #[test]
    fn a_batch_takes_what_is_queued_in_one_visit() {
        let record = Arc::new(Record(Mutex::new(Vec::new())));
        let s = StreamShared::new(Arc::clone(&record) as Arc<dyn StreamEvents>);
        for chunk in [&b"aa"[..], b"bb", b"cc", b"dd", b"ee"] {
            s.push(Bytes::from_static(chunk)).unwrap();
        }
        assert!(s.notify_when_drained(cost(2)));
        let mut body = s.body();
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut out = smallvec::SmallVec::<[Bytes; 2]>::new();
        // A frame limit, then a byte limit (reached by the frame that passes it).
        assert_eq!(body.poll_batch(&mut cx, &mut out, 2, 1024), Polled::More);
        assert_eq!(out.as_slice(), ["aa", "bb"]);
        assert!(record.0.lock().is_empty(), "three chunks queued, above the mark");
        assert_eq!(body.poll_batch(&mut cx, &mut out, 16, 1), Polled::More);
        assert_eq!(out.as_slice(), ["aa", "bb", "cc"]);
        assert!(record.0.lock().is_empty(), "two chunks queued, above the mark");
        // The rest, then the waker registered: a push wakes the reader.
        assert_eq!(body.poll_batch(&mut cx, &mut out, 16, 1024), Polled::Pending);
        assert_eq!(out.len(), 5);
        assert_eq!(*record.0.lock(), [StreamEvent::Drained(s.id())], "the mark reached, once");
        assert!(s.state.lock().reader.is_some(), "the waker is registered");
        out.clear();
        assert_eq!(body.poll_batch(&mut cx, &mut out, 16, 1024), Polled::Pending);
        assert!(out.is_empty());
        // Frames and the end in one batch.
        s.push(Bytes::from_static(b"ff")).unwrap();
        s.finish();
        assert_eq!(body.poll_batch(&mut cx, &mut out, 16, 1024), Polled::Finished);
        assert_eq!(out.as_slice(), ["ff"]);
        // An abort takes nothing.
        let t = StreamShared::new(Arc::new(Quiet));
        t.push(Bytes::from_static(b"gg")).unwrap();
        let mut body = t.body();
        t.abort();
        out.clear();
        assert_eq!(body.poll_batch(&mut cx, &mut out, 16, 1024), Polled::Aborted);
        assert!(out.is_empty());
    }

    #[test]
    fn chunks_come_out_in_order_and_are_counted() {
        // Each chunk counts its bytes and what holding it costs.
        let three = cost(4) + cost(2) + cost(3);
        let s = StreamShared::with_capacity(Arc::new(Quiet), three + cost(2) - 1);
        assert_eq!(s.try_push(Bytes::from_static(b"abcd")), PushOutcome::Queued(4 + CHUNK_COST));
        assert_eq!(s.try_push(Bytes::from_static(b"ef")), PushOutcome::Queued(6 + 2 * CHUNK_COST));
        assert_eq!(s.try_push(Bytes::from_static(b"ghi")), PushOutcome::Queued(three));
        assert_eq!(s.try_push(Bytes::from_static(b"jk")), PushOutcome::Full, "past the capacity");
        let mut body = s.body();
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut got = Vec::new();
        while let Poll::Ready(Some(Ok(f))) = Pin::new(&mut body).poll_frame(&mut cx) {
            got.push(f.into_data().unwrap());
            if got.len() == 2 {
                // Pushed while the queue is being read: it goes behind what waits.
                assert_eq!(s.push(Bytes::from_static(b"l")), Ok(cost(3) + cost(1)));
            }
        }
        assert_eq!(got, ["abcd", "ef", "ghi", "l"]);
        assert_eq!(s.queued(), 0);
        assert!(Pin::new(&mut body).poll_frame(&mut cx).is_pending());
        s.finish();
        assert!(matches!(Pin::new(&mut body).poll_frame(&mut cx), Poll::Ready(None)));
    }
}
