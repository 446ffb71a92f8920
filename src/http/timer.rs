//! A connection's timer: armed once, moved only when it fires early, and registered with
//! its waker once per arming.
//!
//! Owns: waiting for a connection's deadlines (header, keep-alive, body, request and write
//! timeouts of `h1`; header and keep-alive timeouts of `conn::Watched`) on one Tokio timer.
//! Does not own: which deadline applies when (its users).
//!
//! Why: deadlines move later with every request, and re-arming a Tokio timer for each
//! would cost a timer-wheel update per request; the timer stays at the earliest deadline
//! asked for and moves when it fires early. And Tokio's `Sleep` replaces the waker it keeps
//! at every poll (a clone, a drop and two compare-and-swaps), where a connection polls its
//! timer in each of its waits: a wait by the task whose waker the timer already keeps, and
//! that finds it registered and not elapsed, does not poll it again (as an event stream's
//! heartbeat, `body::Heartbeat`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::time::{Instant, Sleep};

/// One connection's timer; see the module doc.
pub struct Timer {
    sleep: Pin<Box<Sleep>>,
    armed: Instant,
    /// The sleep was polled since it was last armed: it keeps `waker`, and wakes it when it
    /// fires.
    registered: bool,
    /// The waker the sleep was last polled with; a wait with another one polls it again.
    waker: Option<Waker>,
}

impl Default for Timer {
    /// A timer armed for nothing yet (a year away): its first wait arms it.
    fn default() -> Self {
        let far = Instant::now() + std::time::Duration::from_secs(86_400 * 365);
        Self { sleep: Box::pin(tokio::time::sleep_until(far)), armed: far, registered: false, waker: None }
    }
}

impl Timer {
    fn arm(&mut self, deadline: Instant) {
        self.sleep.as_mut().reset(deadline);
        self.armed = deadline;
        self.registered = false;
    }

    /// Ready once `deadline` has passed; the clock is read only when the timer fired.
    pub fn poll_until(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        loop {
            if self.armed > deadline {
                self.arm(deadline);
            }
            let same_task = self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
            if same_task && self.registered && !self.sleep.is_elapsed() {
                return Poll::Pending; // it wakes this task when it fires
            }
            let fired = self.sleep.as_mut().poll(cx);
            self.registered = fired.is_pending();
            if self.registered {
                if !same_task {
                    self.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            if Instant::now() >= deadline {
                return Poll::Ready(());
            }
            self.arm(deadline); // it fired early, for an earlier deadline
        }
    }

    /// Returns once the deadline has passed. `deadline` is asked for when this is first
    /// polled: a wait that ends before (the bytes or the answer were there) reads no clock.
    pub async fn until(&mut self, deadline: impl FnOnce() -> Instant) {
        let deadline = deadline();
        std::future::poll_fn(|cx| self.poll_until(cx, deadline)).await
    }
}
