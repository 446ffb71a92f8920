//! `Via\SSE`: an event stream on a response — events, comments, topics, close detection.
//!
//! Owns: the PHP side of a stream (close callbacks, topics joined, waiting for the client
//! to catch up) and the registry of open streams, which outlives the PHP object: a stream
//! that joined a topic stays open after its handler returned, fed by publishes.
//! Does not own: framing (`http::sse`), compression and heartbeats (`http::body`, Tokio).
//!
//! PHP thread only. Registry entries hold callables; they are released when the stream
//! ends (client gone, `close()`, server stop).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};

use super::args::{timeout_arg, ByteStr, Callable, Float, Int, Str};
use super::errors::{park_error, value_err, via_err};
use super::global::PhpGlobal;
use super::response_core::ResponseCore;
use super::runtime::{self, KeyWake, ParkError, TaskKind, Waiter, Wake};
use super::services::Services;
use crate::config::Backpressure;
use crate::http::encoding::{self, Coding};
use crate::http::sse::{format_comment, format_retry, EventMemo};
use crate::http::{PushOutcome, StreamShared};

pub struct SseCore {
    response: Rc<RefCell<ResponseCore>>,
    /// `None` for a detached response (tests): frames go to its captured body.
    stream: Option<Arc<StreamShared>>,
    services: Option<Rc<Services>>,
    on_close: Vec<Zval>,
    closed: bool,
    topics: Vec<String>,
    last_event_id: Option<Vec<u8>>,
    coding: Coding,
    close_waiters: Vec<Waiter>,
}

type Registry = HashMap<u64, Rc<RefCell<SseCore>>>;

/// Open streams by stream id.
static OPEN: PhpGlobal<RefCell<Option<Registry>>> = PhpGlobal::new(RefCell::new(None));

/// The last events `send()` framed (a loop sending one event to every stream frames it once).
static RECENT_EVENTS: PhpGlobal<RefCell<EventMemo>> = PhpGlobal::new(RefCell::new(EventMemo::new()));

fn registry<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    f(OPEN.get().borrow_mut().get_or_insert_with(HashMap::new))
}

/// Releases every stream (request shutdown).
pub fn shutdown() {
    let all = OPEN.get().borrow_mut().take();
    drop(all);
    RECENT_EVENTS.get().borrow_mut().clear();
}

/// Ends a stream on our side: leaves its topics, runs its close callbacks (each in a task)
/// and wakes whoever waits for it. Idempotent.
fn mark_closed(core: &Rc<RefCell<SseCore>>) {
    let (callbacks, waiters, topics, services, id) = {
        let mut c = core.borrow_mut();
        if c.closed {
            return;
        }
        c.closed = true;
        let id = c.stream.as_ref().map(|s| s.id());
        (
            std::mem::take(&mut c.on_close),
            std::mem::take(&mut c.close_waiters),
            std::mem::take(&mut c.topics),
            c.services.clone(),
            id,
        )
    };
    if let (Some(services), Some(id)) = (&services, id) {
        for t in &topics {
            services.topics.leave(t, id);
        }
        services.stats.sse_open.fetch_sub(1, Ordering::Relaxed);
        registry(|r| r.remove(&id));
    }
    // A send() waiting for room in this stream's queue (`wait_drained`) returns at once,
    // not after the backpressure timeout: a tab's next stream need not wait for the last.
    if let Some(id) = id {
        runtime::wake_on(id, KeyWake::Closed);
    }
    for w in waiters {
        let _ = runtime::wake_task(w, Wake::Closed);
    }
    for cb in callbacks {
        runtime::spawn(cb, Vec::new(), TaskKind::Hook("SSE onClose"));
    }
}

/// Stream `id` closed (reported by Tokio): its client went away, or the server cut it off
/// (a topic publish's backpressure policy, counted there, not as a disconnect).
pub fn peer_gone(id: u64) {
    let Some(core) = registry(|r| r.get(&id).cloned()) else { return };
    {
        let c = core.borrow();
        let cut_off = c.stream.as_ref().is_some_and(|s| s.is_aborted());
        if let (Some(s), false) = (&c.services, cut_off) {
            s.stats.sse_disconnects.fetch_add(1, Ordering::Relaxed);
        }
    }
    mark_closed(&core);
}

/// Server stop: every open stream gets a reconnection hint and ends.
pub fn close_all(retry_ms: u64) {
    let all: Vec<_> = registry(|r| r.values().cloned().collect());
    for core in all {
        {
            let c = core.borrow();
            if let Some(s) = &c.stream {
                let hint = format_retry(retry_ms);
                let len = hint.len() as u64;
                // A hint a lent socket took at once is counted here; a queued one, by whoever
                // writes it (the writer, or an I/O thread's flush).
                if let (PushOutcome::Sent, Some(services)) = (s.try_push(hint), &c.services) {
                    services.stats.sse_bytes.fetch_add(len, Ordering::Relaxed);
                }
                s.finish();
            }
        }
        mark_closed(&core);
    }
}

/// The stream an `sse()` call starts on `response`.
pub fn open(response: Rc<RefCell<ResponseCore>>, retry_ms: Option<u64>) -> PhpResult<Sse> {
    let (services, last_event_id, accept) = {
        let mut c = response.borrow_mut();
        if c.headers_sent() {
            return Err(via_err("Via\\Response::sse(): headers were already sent"));
        }
        c.headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/event-stream"));
        c.headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-cache"));
        c.headers.insert("x-accel-buffering", http::HeaderValue::from_static("no"));
        (
            c.services.clone(),
            c.stream_context.last_event_id.as_ref().map(|v| v.as_bytes().to_vec()),
            c.stream_context.accept_encoding.clone(),
        )
    };
    let coding = match &services {
        Some(s) if s.compression.enabled => encoding::negotiate(accept.as_ref()),
        _ => Coding::Identity,
    };
    let stream = match &services {
        Some(s) => {
            let stream = StreamShared::with_capacity(s.events.clone(), s.sse.queue_size);
            let started = response.borrow_mut().start_stream(Arc::clone(&stream), s.sse.heartbeat);
            if !started {
                stream.close();
            }
            s.stats.sse_opened.fetch_add(1, Ordering::Relaxed);
            s.stats.sse_open.fetch_add(1, Ordering::Relaxed);
            Some(stream)
        }
        None => {
            response.borrow_mut().mark_streaming_detached();
            None
        }
    };
    let core = Rc::new(RefCell::new(SseCore {
        response,
        stream: stream.clone(),
        services,
        on_close: Vec::new(),
        closed: false,
        topics: Vec::new(),
        last_event_id,
        coding,
        close_waiters: Vec::new(),
    }));
    if let Some(s) = &stream {
        registry(|r| r.insert(s.id(), Rc::clone(&core)));
        if s.is_closed() {
            mark_closed(&core);
        }
    }
    let sse = Sse { core };
    if let Some(r) = retry_ms {
        sse.push(format_retry(r))?;
    }
    Ok(sse)
}

/// A Server-Sent Events stream, from `Via\Response::sse()`.
#[php_class]
#[php(name = "Via\\SSE")]
#[php(flags = ClassFlags::Final)]
pub struct Sse {
    core: Rc<RefCell<SseCore>>,
}

impl Sse {
    /// The frame of an event `method` was given (its checks' errors name `method`).
    #[inline(always)]
    fn event_frame(
        method: &str,
        data: &[u8],
        event: Option<&[u8]>,
        id: Option<&[u8]>,
        retry: Option<Int>,
    ) -> PhpResult<Bytes> {
        let retry = match retry.map(|r| *r) {
            Some(r) if r < 0 => {
                return Err(value_err(format!(
                    "Via\\SSE::{method}(): Argument #4 ($retry) must be >= 0, {r} given"
                )))
            }
            r => r.map(|r| r as u64),
        };
        // The memo's borrow ends before the error makes a PHP value (no bailout guard: see
        // the `impl` of the methods).
        let frame = RECENT_EVENTS.get().borrow_mut().frame(data, event, id, retry);
        frame.map_err(|e| value_err(format!("Via\\SSE::{method}(): {e}")))
    }

    /// Queues a frame unless the client is behind: `Some(sent)`, or `None` when its queue
    /// is full (nothing queued, no policy applied).
    #[inline(always)]
    fn push_now(&self, frame: Bytes) -> Option<bool> {
        let c = self.core.borrow();
        if c.closed {
            return Some(false);
        }
        let (Some(stream), Some(services)) = (&c.stream, &c.services) else {
            // Detached: the frame is the response body, for inspection.
            c.response.borrow_mut().capture(&frame);
            return Some(true);
        };
        // Under the borrow: queueing runs no PHP code.
        let len = frame.len();
        Self::pushed(stream.try_push(frame), services, len)
    }

    /// Queues a frame, applying the backpressure policy when the client is slow.
    fn push(&self, frame: Bytes) -> PhpResult<bool> {
        // The usual case: no handle is cloned for it.
        if let Some(sent) = self.push_now(frame.clone()) {
            return Ok(sent);
        }
        let (stream, services) = match &*self.core.borrow() {
            SseCore { stream: Some(stream), services: Some(services), .. } => {
                (Arc::clone(stream), Rc::clone(services))
            }
            _ => return Ok(false),
        };
        // A slow client: the backpressure policy, then (when it waited) another try.
        loop {
            match services.sse.backpressure {
                // A client that took nothing for `write_timeout` is cut off, as its
                // connection is when its socket takes no bytes (see `stalled_for`).
                Backpressure::Drop if stream.stalled_for() >= services.write_timeout => {
                    self.cut_off(&stream, &services.stats.write_timeouts, "took nothing");
                    return Ok(false);
                }
                Backpressure::Drop => {
                    services.stats.sse_dropped.fetch_add(1, Ordering::Relaxed);
                    return Ok(false);
                }
                Backpressure::Close => {
                    self.cut_off(&stream, &services.stats.sse_closed_slow, "does not keep up");
                    return Ok(false);
                }
                Backpressure::Wait => match self.wait_drained(&stream, &services, frame.len())? {
                    Room::Made => {}
                    // Its client left, or another sender's wait closed it (counted there).
                    Room::Closed => return Ok(false),
                    Room::TimedOut => {
                        self.cut_off(&stream, &services.stats.sse_closed_slow, "does not keep up");
                        return Ok(false);
                    }
                },
            }
            if let Some(sent) = Self::pushed(stream.try_push(frame.clone()), &services, frame.len()) {
                return Ok(sent);
            }
        }
    }

    /// What `send()` answers for a push of `len` bytes, counted; `None` when the queue was
    /// full.
    fn pushed(outcome: PushOutcome, services: &Services, len: usize) -> Option<bool> {
        match outcome {
            PushOutcome::Queued(_) => {
                services.stats.sse_events.fetch_add(1, Ordering::Relaxed);
                Some(true)
            }
            PushOutcome::Sent => {
                // Written by the push itself: its bytes are counted here, not by the writer.
                services.stats.sse_events.fetch_add(1, Ordering::Relaxed);
                services.stats.sse_bytes.fetch_add(len as u64, Ordering::Relaxed);
                Some(true)
            }
            PushOutcome::Closed => Some(false),
            PushOutcome::Full => None,
        }
    }

    /// Closes the stream of a client that is too slow (`why`), counted in `counter`.
    fn cut_off(&self, stream: &StreamShared, counter: &AtomicU64, why: &str) {
        counter.fetch_add(1, Ordering::Relaxed);
        crate::debug!("closing event stream {}: its client {why}", stream.id());
        stream.abort();
        mark_closed(&self.core);
    }

    /// Suspends until the queue is half empty, and has room for a frame of `len` bytes
    /// (an empty queue takes any frame), the stream closes, or the backpressure timeout.
    fn wait_drained(&self, stream: &StreamShared, services: &Services, len: usize) -> PhpResult<Room> {
        // Half empty alone could already be so while the frame still did not fit: a frame
        // over half the queue's size, to a client that read slowly or not at all, made
        // `push` try, find the queue drained "enough" and try again, forever, spinning the
        // PHP thread (found by tests/framework/test_slow_tab.py).
        let mark = stream.room_mark(len);
        let room = || if stream.is_closed() { Room::Closed } else { Room::Made };
        if !stream.notify_when_drained(mark) {
            return Ok(room());
        }
        services.stats.sse_waits.fetch_add(1, Ordering::Relaxed);
        // The timeout is time in which the client took nothing, as for `write()`: a client
        // that takes chunks is waited for. In one process each chunk it takes makes room;
        // a worker's queue makes room only when the master credits it, which a client
        // taking a topic's frames queued ahead of the worker's events does not (the master
        // tells each such take, `StreamShared::note_progress`).
        let mut taken = stream.taken();
        loop {
            let waiter = match runtime::waiter() {
                Ok(w) => w,
                // Not in a task (e.g. main script without a loop): nothing can wait here.
                Err(_) => return Ok(Room::TimedOut),
            };
            runtime::wait_on(stream.id(), waiter);
            match runtime::park(waiter, Some(services.sse.backpressure_timeout)) {
                // The loop may have been busy when both were due: the drain counts.
                Ok(Wake::Timeout) if stream.queued() <= mark && !stream.is_closed() => return Ok(Room::Made),
                Ok(Wake::Timeout) if stream.taken() != taken && !stream.is_closed() => {
                    taken = stream.taken();
                    if !stream.notify_when_drained(mark) {
                        return Ok(room());
                    }
                }
                Ok(Wake::Timeout) => return Ok(Room::TimedOut),
                Ok(_) => return Ok(room()),
                Err(ParkError::Cancelled) => return Ok(Room::Closed),
                Err(e) => return Err(park_error("Via\\SSE::send()", e)),
            }
        }
    }
}

/// What a `send()` that waited for room in a slow client's queue found.
enum Room {
    /// There is room now (try again).
    Made,
    /// The stream closed meanwhile: its client left, or it was closed (`close()`, another
    /// sender's timeout).
    Closed,
    /// The backpressure timeout passed.
    TimedOut,
}

impl Drop for Sse {
    fn drop(&mut self) {
        // Nobody can write to a stream whose object is gone, unless publishes feed it.
        let orphan = {
            let c = self.core.borrow();
            !c.closed && c.topics.is_empty()
        };
        if orphan {
            if let Some(s) = &self.core.borrow().stream {
                s.finish();
            }
            if runtime::loop_running() {
                mark_closed(&self.core);
            }
        }
    }
}

/// `send()` and `comment()` — called per event, often in a loop over every stream — run
/// without ext-php-rs's bailout guard (`no_bailout_guard`, decision 0015). They make no PHP
/// value while they hold a borrow, and hold none while they wait for a slow client
/// (`backpressure = "wait"`), so a fatal error that passes their frames leaks handles at
/// most, after which the process ends.
#[php_impl]
impl Sse {
    /// Sends an event: multi-line data becomes several `data:` lines; $event names it,
    /// $id sets the client's Last-Event-ID, $retry (ms) its reconnection delay. Returns
    /// false when the stream is closed, or the event was dropped by the backpressure policy.
    ///
    /// @throws \ValueError when $event or $id contains a line break (or $id a NUL byte)
    #[php(no_bailout_guard)]
    pub fn send(
        &self,
        data: ByteStr,
        event: Option<ByteStr>,
        id: Option<ByteStr>,
        retry: Option<Int>,
    ) -> PhpResult<bool> {
        self.push(Self::event_frame("send", &data, event.as_deref(), id.as_deref(), retry)?)
    }

    /// Sends an event as send() does, unless the client is behind: true when it is queued,
    /// false when the stream is closed, null when the client's queue is full — then nothing
    /// is queued and no backpressure policy applies (send() would wait, drop or close). For
    /// a loop over many streams that must not wait for one: it sends to those keeping up
    /// and leaves a slow one to a task of its own.
    ///
    /// @throws \ValueError when $event or $id contains a line break (or $id a NUL byte)
    #[php(no_bailout_guard)]
    pub fn try_send(
        &self,
        data: ByteStr,
        event: Option<ByteStr>,
        id: Option<ByteStr>,
        retry: Option<Int>,
    ) -> PhpResult<Option<bool>> {
        Ok(self.push_now(Self::event_frame("trySend", &data, event.as_deref(), id.as_deref(), retry)?))
    }

    /// Sends a comment (ignored by EventSource; keeps intermediaries awake).
    #[php(no_bailout_guard)]
    pub fn comment(&self, text: ByteStr) -> PhpResult<bool> {
        self.push(format_comment(&text))
    }

    /// Ends the stream once queued events are sent; runs the onClose callbacks.
    pub fn close(&self) {
        if let Some(s) = &self.core.borrow().stream {
            s.finish();
        }
        mark_closed(&self.core);
    }

    /// Whether events can still be sent (false once the client left or close() ran).
    pub fn is_open(&self) -> bool {
        let c = self.core.borrow();
        !c.closed && c.stream.as_ref().is_none_or(|s| !s.is_closed() && !s.is_finished())
    }

    /// Runs $callback once when the stream ends — the client left (noticed without a
    /// write), close(), or the server stopped. At once if it already ended.
    pub fn on_close<'a>(
        self_: &'a mut ZendClassObject<Sse>,
        callback: Callable,
    ) -> &'a mut ZendClassObject<Sse> {
        let closed = self_.core.borrow().closed;
        if closed {
            runtime::spawn(callback.to_zval(), Vec::new(), TaskKind::Hook("SSE onClose"));
        } else {
            self_.core.borrow_mut().on_close.push(callback.to_zval());
        }
        self_
    }

    /// Suspends until the stream ends (true) or $timeout seconds pass (false); null,
    /// negative, INF or more than 365 days = no limit.
    ///
    /// @throws \ValueError for a NAN timeout
    /// @throws \Via\Exception when waiting is impossible (inside a foreign Fiber)
    pub fn wait_closed(&self, timeout: Option<Float>) -> PhpResult<bool> {
        let timeout = timeout_arg(timeout.map(|t| *t), "Via\\SSE::waitClosed(): Argument #1 ($timeout)")?;
        if !self.is_open() {
            return Ok(true);
        }
        let w = runtime::waiter().map_err(|e| park_error("Via\\SSE::waitClosed()", e))?;
        self.core.borrow_mut().close_waiters.push(w);
        match runtime::park(w, timeout) {
            Ok(Wake::Timeout) => {
                self.core.borrow_mut().close_waiters.retain(|x| *x != w);
                Ok(false)
            }
            Ok(_) | Err(ParkError::Cancelled) => Ok(true),
            Err(e) => Err(park_error("Via\\SSE::waitClosed()", e)),
        }
    }

    /// The Last-Event-ID the client sent when it (re)connected, or null.
    pub fn last_event_id(&self) -> Option<Binary<u8>> {
        self.core.borrow().last_event_id.clone().map(Binary::from)
    }

    /// Joins a topic: Via\Server::publish() to it reaches this stream, and the stream
    /// stays open after the handler returns until the client leaves.
    ///
    /// @throws \ValueError for an empty topic
    pub fn join<'a>(
        self_: &'a mut ZendClassObject<Sse>,
        topic: Str<'_>,
    ) -> PhpResult<&'a mut ZendClassObject<Sse>> {
        let topic = topic.into_string();
        if topic.is_empty() {
            return Err(value_err("Via\\SSE::join(): Argument #1 ($topic) must not be empty"));
        }
        {
            let mut c = self_.core.borrow_mut();
            if !c.closed && !c.topics.contains(&topic) {
                if let (Some(s), Some(v)) = (&c.stream, &c.services) {
                    v.topics.join(&topic, s);
                }
                c.topics.push(topic);
            }
        }
        Ok(self_)
    }

    /// Leaves a topic.
    pub fn leave<'a>(self_: &'a mut ZendClassObject<Sse>, topic: Str<'_>) -> &'a mut ZendClassObject<Sse> {
        {
            let mut c = self_.core.borrow_mut();
            if let Some(pos) = c.topics.iter().position(|t| *t == *topic) {
                c.topics.remove(pos);
                if let (Some(s), Some(v)) = (&c.stream, &c.services) {
                    v.topics.leave(&topic, s.id());
                }
            }
        }
        self_
    }

    /// The topics joined.
    pub fn topics(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut list = ZendHashTable::new();
        for t in &self.core.borrow().topics {
            list.push(t.as_str())?;
        }
        Ok(list)
    }

    /// The content coding of the stream: "br", "gzip" or "identity".
    pub fn encoding(&self) -> &'static str {
        self.core.borrow().coding.as_str()
    }

    /// A number identifying the stream within the process (0 for a detached response).
    pub fn id(&self) -> i64 {
        self.core.borrow().stream.as_ref().map_or(0, |s| s.id() as i64)
    }
}
