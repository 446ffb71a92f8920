//! A streamed response body as hyper sends it: the application's chunks, compressed and
//! flushed one by one when the client accepts it, with heartbeat comments in the silences
//! of an event stream.
//!
//! Owns: per-stream compression state and the heartbeat timer. The heartbeat goes through
//! the same encoder as the events, so a compressed stream stays one valid stream.
//! Runs on the Tokio thread that drives the connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::encoding::StreamEncoder;
use super::sse::HEARTBEAT;
use super::stats::Stats;
use super::stream::{Polled, StreamAborted, StreamBody};

struct Heartbeat {
    every: Duration,
    sleep: Pin<Box<Sleep>>,
    /// When `sleep` fires; before then it need not be polled again (it keeps the task's
    /// waker from its last poll): with thousands of streams its timer entry is a cold
    /// cache line per event otherwise.
    armed: Option<Instant>,
    /// The waker `sleep` was last polled with; another one re-polls it.
    waker: Option<std::task::Waker>,
    /// When the stream last sent something: set when the body next waits (`Pending`) after
    /// frames went out, not per frame, so that a batch of events reads the clock once.
    last: Instant,
    /// Frames went out since `last` was set.
    sent: bool,
}

impl Heartbeat {
    /// Whether a heartbeat is due now; either way the timer is left registered with the
    /// task's waker for the next one (unless the period is zero, or the task's budget is
    /// spent: then the next poll looks again).
    fn poll_due(&mut self, cx: &mut Context<'_>) -> bool {
        // Frames sent since the last wait (mostly by the polls just before this one) end the
        // silence now. One clock read serves them and the check below.
        let mut now = None;
        if std::mem::take(&mut self.sent) {
            self.last = *now.insert(Instant::now());
        }
        // Registered with this task's waker, and not due yet: the timer wakes the task when
        // it is.
        let same_task = self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        if same_task && self.armed.is_some_and(|at| *now.get_or_insert_with(Instant::now) < at) {
            return false;
        }
        let mut due = false;
        // A poll refused for the task's budget registers no waker with the timer (it wakes
        // the task to come back instead): not armed then.
        let budget = tokio::task::coop::has_budget_remaining();
        loop {
            // The timer is moved only when it fires (not on every event).
            match self.sleep.as_mut().poll(cx) {
                Poll::Pending if !budget => {
                    self.armed = None;
                    return due;
                }
                Poll::Pending => {
                    self.armed = Some(self.sleep.deadline());
                    if !same_task {
                        self.waker = Some(cx.waker().clone());
                    }
                    return due;
                }
                Poll::Ready(()) if due => {
                    // A zero period fires again at once: the next poll looks again.
                    self.armed = None;
                    return true;
                }
                Poll::Ready(()) => {
                    let at = self.last + self.every;
                    let now = Instant::now();
                    if now >= at {
                        self.last = now;
                        self.sleep.as_mut().reset(now + self.every);
                        due = true;
                    } else {
                        self.sleep.as_mut().reset(at);
                    }
                }
            }
        }
    }
}

pub struct StreamedBody {
    inner: StreamBody,
    encoder: Option<StreamEncoder>,
    heartbeat: Option<Heartbeat>,
    stats: Arc<Stats>,
    done: bool,
}

impl StreamedBody {
    pub fn new(
        inner: StreamBody,
        encoder: Option<StreamEncoder>,
        heartbeat: Option<Duration>,
        stats: Arc<Stats>,
    ) -> Self {
        let heartbeat = heartbeat.map(|every| Heartbeat {
            every,
            sleep: Box::pin(tokio::time::sleep(every)),
            armed: None,
            waker: None,
            last: Instant::now(),
            sent: false,
        });
        Self { inner, encoder, heartbeat, stats, done: false }
    }

    fn emit(&mut self, data: &[u8]) -> Poll<Option<Result<Frame<Bytes>, StreamAborted>>> {
        let bytes = match &mut self.encoder {
            Some(enc) => match enc.encode(data) {
                Ok(b) => b,
                Err(_) => return Poll::Ready(Some(Err(StreamAborted))),
            },
            None => Bytes::copy_from_slice(data),
        };
        self.stats.sse_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }

    /// A heartbeat comment, through the encoder like the events.
    fn beat(&mut self) -> Poll<Option<Result<Frame<Bytes>, StreamAborted>>> {
        self.stats.sse_heartbeats.fetch_add(1, Ordering::Relaxed);
        if self.encoder.is_none() {
            return self.emit_owned(Bytes::from_static(HEARTBEAT));
        }
        self.emit(HEARTBEAT)
    }

    /// Whether the stream's socket may be lent to pushes while the writer waits
    /// (`StreamShared::arm`): only for chunks sent as they are, not through an encoder.
    pub fn may_lend(&self) -> bool {
        self.encoder.is_none() && !self.done
    }

    /// `StreamShared::arm`, for the writer of an HTTP/1.1 stream (see `may_lend`).
    pub(crate) fn arm(&self, fd: std::os::fd::RawFd) -> bool {
        self.inner.arm(fd)
    }

    /// `StreamShared::disarm`: what a push left unsent, for the writer to send first. What
    /// pushes wrote to the socket puts the heartbeat off, as what the writer sends does.
    pub fn disarm(&mut self) -> Option<Vec<u8>> {
        let super::stream::Disarmed { unsent, sent_ago } = self.inner.disarm();
        if let (Some(ago), Some(hb)) = (sent_ago, &mut self.heartbeat) {
            let at = Instant::now().checked_sub(ago).unwrap_or(hb.last);
            hb.last = hb.last.max(at);
        }
        unsent
    }

    /// `poll_frame` until it stops being ready, in one visit to the stream's queue (see
    /// `StreamBody::poll_batch`): the frames ready now, up to `max_frames` or `max_bytes`
    /// of the application's, are put into `out` (empty when given), with a heartbeat or
    /// the encoder's tail when one is due (only when fewer than `max_frames` were ready).
    /// What it returns says how the body stands after them: with `Pending` the task's
    /// waker is registered with the queue and the heartbeat's timer; `More` has frames;
    /// `Aborted` ends the body broken (after what `out` holds, if anything).
    pub fn poll_batch<A: smallvec::Array<Item = Bytes>>(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut smallvec::SmallVec<A>,
        max_frames: usize,
        max_bytes: usize,
    ) -> Polled {
        debug_assert!(out.is_empty());
        if self.done {
            return Polled::Finished;
        }
        let polled = loop {
            let polled = self.inner.poll_batch(cx, out, max_frames, max_bytes);
            if polled == Polled::Aborted || !self.encode(out) {
                out.clear();
                return Polled::Aborted;
            }
            // Encoded to nothing, with more queued: take the next ones (`More` registered
            // no waker, so stopping here would stall the stream).
            if !(out.is_empty() && polled == Polled::More) {
                break polled;
            }
        };
        match polled {
            Polled::Finished => {
                self.done = true;
                match self.encoder.take().map(StreamEncoder::finish) {
                    Some(Ok(tail)) if !tail.is_empty() => out.push(tail),
                    Some(Err(_)) => return Polled::Aborted,
                    _ => {}
                }
            }
            Polled::Pending => {
                if self.heartbeat.as_mut().is_some_and(|hb| hb.poll_due(cx)) {
                    match self.beat() {
                        Poll::Ready(Some(Ok(frame))) => {
                            out.extend(frame.into_data().ok().filter(|b| !b.is_empty()));
                        }
                        _ => return Polled::Aborted,
                    }
                }
            }
            Polled::More | Polled::Aborted => {}
        }
        polled
    }

    /// Encodes the application's frames in `out` in place (empty ones dropped), counts
    /// their bytes and notes for the heartbeat that frames went out; `false` when the
    /// encoder failed.
    fn encode<A: smallvec::Array<Item = Bytes>>(&mut self, out: &mut smallvec::SmallVec<A>) -> bool {
        if !out.is_empty() {
            if let Some(hb) = &mut self.heartbeat {
                hb.sent = true;
            }
            if let Some(enc) = &mut self.encoder {
                for frame in out.iter_mut() {
                    match enc.encode(frame) {
                        Ok(b) => *frame = b,
                        Err(_) => return false,
                    }
                }
                out.retain(|b| !b.is_empty());
            }
            let bytes: usize = out.iter().map(Bytes::len).sum();
            self.stats.sse_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        }
        true
    }

    fn emit_owned(&mut self, data: Bytes) -> Poll<Option<Result<Frame<Bytes>, StreamAborted>>> {
        if self.encoder.is_none() {
            self.stats.sse_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        self.emit(&data)
    }
}

impl Body for StreamedBody {
    type Data = Bytes;
    type Error = StreamAborted;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamAborted>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let data = frame.into_data().unwrap_or_default();
                if let Some(hb) = &mut this.heartbeat {
                    hb.sent = true;
                }
                this.emit_owned(data)
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => {
                this.done = true;
                match this.encoder.take().map(StreamEncoder::finish) {
                    Some(Ok(tail)) if !tail.is_empty() => Poll::Ready(Some(Ok(Frame::data(tail)))),
                    Some(Err(_)) => Poll::Ready(Some(Err(StreamAborted))),
                    _ => Poll::Ready(None),
                }
            }
            Poll::Pending if this.heartbeat.as_mut().is_some_and(|hb| hb.poll_due(cx)) => this.beat(),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::stream::{StreamEvent, StreamEvents, StreamShared};

    struct Quiet;
    impl StreamEvents for Quiet {
        fn stream_event(&self, _: StreamEvent) {}
    }

    /// The next batch with something in it: waits on the wakers `poll_batch` registers.
    async fn next_batch(body: &mut StreamedBody) -> (Polled, Vec<Bytes>) {
        std::future::poll_fn(|cx| {
            let mut out = smallvec::SmallVec::<[Bytes; 4]>::new();
            match body.poll_batch(cx, &mut out, 16, 1 << 16) {
                Polled::Pending if out.is_empty() => Poll::Pending,
                polled => Poll::Ready((polled, out.into_vec())),
            }
        })
        .await
    }

    #[test]
    fn a_silent_batch_gets_a_heartbeat_and_events_put_it_off() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let every = Duration::from_millis(30);
            let stats = Arc::new(Stats::default());
            let stream = StreamShared::new(Arc::new(Quiet));
            let mut body = StreamedBody::new(stream.body(), None, Some(every), Arc::clone(&stats));
            let start = Instant::now();
            assert_eq!(next_batch(&mut body).await, (Polled::Pending, vec![Bytes::from_static(HEARTBEAT)]));
            assert!(start.elapsed() >= every, "not before a whole period of silence");
            assert_eq!(stats.sse_heartbeats.load(Ordering::Relaxed), 1);

            stream.push(Bytes::from_static(b"data: a\n\n")).unwrap();
            stream.push(Bytes::from_static(b"data: b\n\n")).unwrap();
            let sent = Instant::now();
            let (polled, frames) = next_batch(&mut body).await;
            assert_eq!(
                (polled, frames.len()),
                (Polled::Pending, 2),
                "both events, then the waker registered"
            );
            assert_eq!(next_batch(&mut body).await.1, [HEARTBEAT]);
            assert!(sent.elapsed() >= every, "the events put the heartbeat off");
            assert_eq!(stats.sse_bytes.load(Ordering::Relaxed), 2 * 9 + 2 * HEARTBEAT.len() as u64);

            stream.push(Bytes::from_static(b"data: c\n\n")).unwrap();
            stream.finish();
            assert_eq!(
                next_batch(&mut body).await,
                (Polled::Finished, vec![Bytes::from_static(b"data: c\n\n")])
            );
            assert_eq!(next_batch(&mut body).await, (Polled::Finished, vec![]), "finished stays finished");
        });
    }
}
