//! `Via\Channel`: a bounded queue between tasks of one PHP thread.
//!
//! Owns: values in flight, and the waiting poppers and pushers (FIFO). A push hands its
//! value straight to a waiting popper, which runs in the same loop turn — no polling.
//! `pop()` tells a closed channel (`Via\ChannelState::Closed`) apart from a timeout
//! (`Via\ChannelState::Timeout`) and from any value.
//!
//! PHP thread only. The state is never borrowed while a value is dropped or a task parks.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;

use super::args::{timeout_arg, Float, Int};
use super::errors::{park_error, value_err};
use super::runtime::{self, ParkError, Waiter, Wake};

/// What `Channel::pop()` returns when no value came.
#[php_enum]
#[php(name = "Via\\ChannelState")]
pub enum ChannelState {
    /// The channel is closed and empty: no value will ever come.
    Closed,
    /// The timeout passed first.
    Timeout,
}

#[derive(Default)]
struct State {
    capacity: usize,
    queue: VecDeque<Zval>,
    closed: bool,
    poppers: VecDeque<Waiter>,
    pushers: VecDeque<Waiter>,
}

/// A bounded FIFO for passing values between tasks. Values stay PHP values (no copy,
/// no serialisation); the channel holds references, so close() a channel whose values
/// refer back to it to free the cycle.
#[php_class]
#[php(name = "Via\\Channel")]
#[php(flags = ClassFlags::Final)]
pub struct Channel {
    state: RefCell<State>,
}

impl Channel {
    /// Wakes the first pusher still waiting (room became free).
    fn wake_one_pusher(&self) {
        loop {
            let Some(w) = self.state.borrow_mut().pushers.pop_front() else { return };
            if runtime::wake_task(w, Wake::Ready).is_ok() {
                return;
            }
        }
    }

    /// Hands `value` to a waiting popper; gives it back when nobody waits.
    fn hand_over(&self, mut value: Zval) -> Option<Zval> {
        loop {
            let Some(w) = self.state.borrow_mut().poppers.pop_front() else { return Some(value) };
            match runtime::wake_task(w, Wake::Value(value)) {
                Ok(()) => return None,
                Err(Wake::Value(v)) => value = v,
                Err(_) => return None,
            }
        }
    }

    fn remove_waiter(list: &mut VecDeque<Waiter>, w: Waiter) {
        list.retain(|x| *x != w);
    }

    /// `pop()`'s value (see there).
    fn pop_value(&self, timeout: Option<Float>) -> PhpResult<Zval> {
        let timeout = timeout_arg(timeout.map(|t| *t), "Via\\Channel::pop(): Argument #1 ($timeout)")?;
        let taken = self.state.borrow_mut().queue.pop_front();
        if let Some(v) = taken {
            self.wake_one_pusher();
            return Ok(v);
        }
        if self.state.borrow().closed {
            return Ok(ChannelState::Closed.into_zval(false)?);
        }
        if timeout == Some(Duration::ZERO) {
            return Ok(ChannelState::Timeout.into_zval(false)?);
        }
        let w = runtime::waiter().map_err(|e| park_error("Via\\Channel::pop()", e))?;
        self.state.borrow_mut().poppers.push_back(w);
        let wake = runtime::park(w, timeout);
        Self::remove_waiter(&mut self.state.borrow_mut().poppers, w);
        match wake {
            Ok(Wake::Value(v)) => Ok(v),
            Ok(Wake::Timeout) => Ok(ChannelState::Timeout.into_zval(false)?),
            Ok(_) => {
                // Closed, or woken without a value: take one if it arrived meanwhile.
                let taken = self.state.borrow_mut().queue.pop_front();
                match taken {
                    Some(v) => {
                        self.wake_one_pusher();
                        Ok(v)
                    }
                    None => Ok(ChannelState::Closed.into_zval(false)?),
                }
            }
            Err(ParkError::Cancelled) => Ok(ChannelState::Closed.into_zval(false)?),
            Err(e) => Err(park_error("Via\\Channel::pop()", e)),
        }
    }
}

#[php_impl]
impl Channel {
    /// A channel holding up to $capacity values (at least 1).
    ///
    /// @throws \ValueError when $capacity < 1
    #[php(defaults(capacity = 1))]
    pub fn __construct(capacity: Int) -> PhpResult<Self> {
        let capacity = *capacity;
        if capacity < 1 {
            return Err(value_err(format!(
                "Via\\Channel::__construct(): Argument #1 ($capacity) must be at least 1, {capacity} given"
            )));
        }
        Ok(Self { state: RefCell::new(State { capacity: capacity as usize, ..State::default() }) })
    }

    /// Adds a value, waiting while the channel is full (up to $timeout seconds; null,
    /// negative, INF or more than 365 days = no limit, 0 = do not wait). A waiting pop()
    /// receives it at once. Returns false when the channel is closed or the timeout passed.
    ///
    /// @throws \ValueError for a NAN timeout
    /// @throws \Via\Exception when waiting is impossible (it would wait forever)
    pub fn push(&self, value: &Zval, timeout: Option<Float>) -> PhpResult<bool> {
        let timeout = timeout_arg(timeout.map(|t| *t), "Via\\Channel::push(): Argument #2 ($timeout)")?;
        let mut value = value.shallow_clone();
        loop {
            if self.state.borrow().closed {
                return Ok(false);
            }
            match self.hand_over(value) {
                None => return Ok(true),
                Some(v) => value = v,
            }
            {
                let mut s = self.state.borrow_mut();
                if s.queue.len() < s.capacity {
                    s.queue.push_back(value);
                    return Ok(true);
                }
            }
            if timeout == Some(Duration::ZERO) {
                return Ok(false);
            }
            let w = runtime::waiter().map_err(|e| park_error("Via\\Channel::push()", e))?;
            self.state.borrow_mut().pushers.push_back(w);
            let wake = runtime::park(w, timeout);
            Self::remove_waiter(&mut self.state.borrow_mut().pushers, w);
            match wake {
                Ok(Wake::Timeout) => return Ok(false),
                Ok(_) => continue,
                Err(ParkError::Cancelled) => return Ok(false),
                Err(e) => return Err(park_error("Via\\Channel::push()", e)),
            }
        }
    }

    /// Takes the oldest value, waiting up to $timeout seconds (null, negative, INF or more
    /// than 365 days = no limit, 0 = do not wait). Returns Via\ChannelState::Timeout when
    /// the time passed and Via\ChannelState::Closed once the channel is closed and empty.
    ///
    /// @throws \ValueError for a NAN timeout
    /// @throws \Via\Exception when waiting is impossible (it would wait forever)
    pub fn pop(&self, timeout: Option<Float>) -> PhpResult<super::convert::Ret> {
        self.pop_value(timeout).map(super::convert::Ret)
    }

    /// Closes the channel: waiting and later push() return false; pop() returns the
    /// values still queued, then Via\ChannelState::Closed. Idempotent.
    pub fn close(&self) {
        let (poppers, pushers) = {
            let mut s = self.state.borrow_mut();
            s.closed = true;
            (std::mem::take(&mut s.poppers), std::mem::take(&mut s.pushers))
        };
        for w in poppers.into_iter().chain(pushers) {
            let _ = runtime::wake_task(w, Wake::Closed);
        }
    }

    /// Number of queued values.
    pub fn length(&self) -> i64 {
        self.state.borrow().queue.len() as i64
    }

    /// The capacity given at construction.
    pub fn capacity(&self) -> i64 {
        self.state.borrow().capacity as i64
    }

    pub fn is_empty(&self) -> bool {
        self.state.borrow().queue.is_empty()
    }

    pub fn is_full(&self) -> bool {
        let s = self.state.borrow();
        s.queue.len() >= s.capacity
    }

    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        // Values are dropped after the state is out of the cell.
        let queue = std::mem::take(&mut self.state.get_mut().queue);
        drop(queue);
    }
}
