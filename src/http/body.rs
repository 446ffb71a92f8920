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
use super::stream::{StreamAborted, StreamBody};

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
            Poll::Pending => {
                let Some(hb) = &mut this.heartbeat else { return Poll::Pending };
                // Frames sent since the last wait (mostly by the polls just before this one)
                // end the silence now. One clock read serves them and the check below.
                let mut now = None;
                if std::mem::take(&mut hb.sent) {
                    hb.last = *now.insert(Instant::now());
                }
                // Registered with this task's waker, and not due yet: the timer wakes the
                // task when it is.
                let same_task = hb.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
                if same_task && hb.armed.is_some_and(|at| *now.get_or_insert_with(Instant::now) < at) {
                    return Poll::Pending;
                }
                loop {
                    // The timer is moved only when it fires (not on every event).
                    match hb.sleep.as_mut().poll(cx) {
                        Poll::Pending => {
                            hb.armed = Some(hb.sleep.deadline());
                            if !same_task {
                                hb.waker = Some(cx.waker().clone());
                            }
                            return Poll::Pending;
                        }
                        Poll::Ready(()) => {
                            let due = hb.last + hb.every;
                            let now = Instant::now();
                            if now >= due {
                                hb.last = now;
                                hb.sleep.as_mut().reset(hb.last + hb.every);
                                hb.armed = None;
                                this.stats.sse_heartbeats.fetch_add(1, Ordering::Relaxed);
                                return this.emit(HEARTBEAT);
                            }
                            hb.sleep.as_mut().reset(due);
                        }
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
