//! Multi-worker servers on the PHP side: which process this is, and the questions a worker
//! asks its master (a topic's subscribers, a publish's reach, the aggregated counters).
//!
//! Owns: the worker's identity (index, count, master pid), its link to the master while it
//! serves, and the waiters of questions in flight. Does not own: the link itself
//! (`crate::workers::link`), routing or supervision (`crate::workers::master`, Rust only:
//! the master runs no PHP once it serves).
//!
//! PHP thread only.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::{ZendHashTable, Zval};

use super::errors::{park_error, via_err};
use super::global::PhpGlobal;
use super::runtime::{self, Waiter, Wake};
use crate::ipc::ToMaster;
use crate::workers::link::Link;

/// How long a worker waits for its master to answer a question.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// This process's place among the workers. One process: worker 0 of 1.
#[derive(Clone, Copy, Debug)]
pub struct Identity {
    pub id: u32,
    pub count: u32,
    pub master_pid: u32,
}

struct State {
    identity: Option<Identity>,
    link: Option<Arc<Link>>,
    questions: Option<HashMap<u64, Waiter>>,
}

static STATE: PhpGlobal<RefCell<State>> =
    PhpGlobal::new(RefCell::new(State { identity: None, link: None, questions: None }));

fn questions<R>(f: impl FnOnce(&mut HashMap<u64, Waiter>) -> R) -> R {
    f(STATE.get().borrow_mut().questions.get_or_insert_with(HashMap::new))
}

/// The identity of this process if it is a worker of a multi-worker server.
pub fn identity() -> Option<Identity> {
    STATE.get().borrow().identity
}

pub fn set_identity(id: Option<Identity>) {
    STATE.get().borrow_mut().identity = id;
}

/// In a worker that serves: the link to the master.
pub fn link() -> Option<Arc<Link>> {
    STATE.get().borrow().link.clone()
}

/// Sets the link while the worker serves; returns the one it replaces.
pub fn set_link(link: Option<Arc<Link>>) -> Option<Arc<Link>> {
    std::mem::replace(&mut STATE.get().borrow_mut().link, link)
}

/// Sends the frame `make(seq)` and suspends the calling task until the master answers it.
pub fn ask(link: &Link, what: &str, make: impl FnOnce(u64) -> ToMaster) -> PhpResult<Zval> {
    if !link.is_open() {
        return Err(via_err(format!("{what}: the link to the master is closed")));
    }
    let seq = link.next_seq();
    let w = runtime::waiter().map_err(|e| park_error(what, e))?;
    questions(|q| q.insert(seq, w));
    link.send(make(seq));
    let wake = runtime::park(w, Some(ANSWER_TIMEOUT));
    questions(|q| q.remove(&seq));
    match wake {
        Ok(Wake::Value(z)) => Ok(z),
        Ok(Wake::Timeout) => {
            Err(via_err(format!("{what}: the master did not answer within {ANSWER_TIMEOUT:?}")))
        }
        Ok(_) => Err(via_err(format!("{what}: the link to the master closed"))),
        Err(e) => Err(park_error(what, e)),
    }
}

/// The master answered question `seq`.
pub fn answer(seq: u64, value: Zval) {
    let w = questions(|q| q.remove(&seq));
    if let Some(w) = w {
        let _ = runtime::wake_task(w, Wake::Value(value));
    }
}

pub fn answer_count(seq: u64, n: u64) {
    if let Ok(z) = (n as i64).into_zval(false) {
        answer(seq, z);
    }
}

pub fn answer_stats(seq: u64, pairs: Vec<(bytes::Bytes, u64)>) {
    let mut ht = ZendHashTable::new();
    // The workers' request counters are for the metrics endpoint only.
    for (k, v) in
        pairs.into_iter().filter(|(k, _)| !k.starts_with(crate::ops::metrics::PAIR_PREFIX.as_bytes()))
    {
        let _ = ht.insert(&*String::from_utf8_lossy(&k), v as i64);
    }
    if let Ok(z) = ht.into_zval(false) {
        answer(seq, z);
    }
}

/// The link closed: every question in flight fails.
pub fn fail_all() {
    let waiters: Vec<Waiter> = questions(|q| q.drain().map(|(_, w)| w).collect());
    for w in waiters {
        let _ = runtime::wake_task(w, Wake::Closed);
    }
}

/// Reseeds PHP's Mersenne Twister: every worker starts as a copy of one process, and
/// `mt_rand()`/`rand()` would give every worker the same sequence.
pub fn reseed_random() {
    if let Ok(f) = ext_php_rs::types::ZendCallable::try_from_name("mt_srand") {
        let mut seed = [0u8; 4];
        // SAFETY: getrandom into a 4-byte buffer.
        let n = unsafe { libc::getrandom(seed.as_mut_ptr().cast(), 4, 0) };
        let seed =
            if n == 4 { i64::from(u32::from_le_bytes(seed) >> 1) } else { i64::from(std::process::id()) };
        let _ = f.try_call(vec![&seed]);
    }
}

/// Ends this worker process the way `exit` does: PHP unwinds and shuts down cleanly.
pub fn exit_process() {
    super::sym::throw_unwind_exit();
}
