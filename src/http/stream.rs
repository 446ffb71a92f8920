//! Streamed response bodies: a bounded-by-policy byte queue shared by one writer (the
//! application) and one reader (hyper, on a Tokio thread).
//!
//! Owns: the queue, end-of-stream, peer-gone detection and the drain notification.
//! Does not own: the policy when the queue is long (the writer decides: suspend, drop,
//! close); this module only counts bytes and tells.
//!
//! Invariants: the mutex is held only for queue operations, never across a wake-up or a
//! dispatcher call; `Closed` is reported at most once, and only when the writer had not
//! finished.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use parking_lot::Mutex;

static NEXT_STREAM_ID: AtomicU64 = AtomicU64::new(1);

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
    /// The oldest queued chunk (`None`: the queue is empty).
    first: Option<Bytes>,
    reader: Option<Waker>,
    // The second line.
    queued: usize,
    /// Chunks the reader took, ever (wrapping): whether a full queue moved (`stalled_for`).
    taken: u32,
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
}

/// What a bounded push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Queued; this many bytes are queued now.
    Queued(usize),
    /// Not queued: it does not fit in the capacity (a slow client).
    Full,
    /// Not queued: the peer is gone or the stream ended.
    Closed,
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
    pub fn try_push(&self, chunk: Bytes) -> PushOutcome {
        self.enqueue(chunk, true, super::wake_batch::wake)
    }

    /// `try_push`, with the reader's waker (when it must be woken) handed to `wake` — a
    /// fan-out collects them and hands them over together (`wake_batch::Wakes`).
    pub fn try_push_then(&self, chunk: Bytes, wake: impl FnOnce(Waker)) -> PushOutcome {
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
    pub fn push(&self, chunk: Bytes) -> Result<usize, StreamClosed> {
        match self.enqueue(chunk, false, super::wake_batch::wake) {
            PushOutcome::Queued(queued) => Ok(queued),
            PushOutcome::Closed | PushOutcome::Full => Err(StreamClosed),
        }
    }

    /// Queues `chunk` (an empty one only wakes the reader) and has `wake` wake the reader;
    /// with `bounded`, refuses it when the queue is not empty and it would pass the capacity.
    fn enqueue(&self, chunk: Bytes, bounded: bool, wake: impl FnOnce(Waker)) -> PushOutcome {
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
            if !chunk.is_empty() {
                s.push_chunk(chunk);
            }
            queued = s.queued;
            waker = s.reader.take();
        }
        if let Some(w) = waker {
            // `wake_batch`: from the PHP thread, with the next batch (one unpark of the I/O
            // thread per batch, not per stream); from any other thread, at once.
            wake(w);
        }
        PushOutcome::Queued(queued)
    }

    /// Ends the body once the queue is flushed. Idempotent.
    pub fn finish(&self) {
        let waker = {
            let mut s = self.state.lock();
            s.finished = true;
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
            s.clear();
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
        s.clear();
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
            let complete = s.finished && s.is_empty() && !s.aborted;
            s.closed = true;
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
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let s = StreamShared::new(Arc::new(Quiet));
        let body = s.body();
        s.push(Bytes::from_static(b"queued")).unwrap();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        assert!(body.poll_aborted(&mut cx).is_pending());
        assert_eq!(s.queued(), cost(6), "nothing taken");
        s.abort();
        assert!(count.0.load(Ordering::SeqCst) >= 1, "woken");
        assert!(body.poll_aborted(&mut cx).is_ready());
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
