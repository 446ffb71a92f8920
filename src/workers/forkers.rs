//! The master's forkers: the active one, which forks every worker, and a spare it forked of
//! itself, idle until the active one dies (decision 0009). The master has threads and must
//! never fork; a forker has none and may fork a copy of itself, so the supply of forkers
//! never depends on the master forking.
//!
//! Owns: which forker is active, asking for a spare and keeping one, promoting the spare
//! when the active forker dies, the bound on forker deaths, and the processes a dead forker
//! left to the master (adopted through `reaper`) until they are reaped.
//! Does not own: the workers' slots and what an exit means (`workers::master`), the forker
//! process itself (`workers::forker`).
//!
//! Runs on the supervisor task only. Every forker's events reach the supervisor tagged with
//! the forker's id, in the order that forker sent them: all of a dead forker's reports come
//! before its `Gone`.

use std::collections::{HashSet, VecDeque};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::forker::{ForkerEvent, ForkerHandle};
use super::reaper::{self, Exit, Reaper};

/// Forker deaths (active or spare) within `DEATH_WINDOW` at which the server stops instead
/// of promoting again: something keeps killing them (the OOM killer, an operator's script),
/// and forking more would not help.
pub const DEATH_LIMIT: usize = 5;
pub const DEATH_WINDOW: Duration = Duration::from_secs(60);

/// Delivers one forker's event (its id, the event); false once nobody listens.
pub type OnEvent = Arc<dyn Fn(u64, ForkerEvent) -> bool + Send + Sync>;

/// What the death of a forker means for the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Loss {
    /// Not the active forker nor the spare (a second report): nothing to do.
    Unknown,
    /// The spare died; another was asked for.
    Spare,
    /// The active forker died and the spare took over: what the dead one was asked and
    /// never answered must be asked again.
    Promoted,
    /// The active forker died and cannot be replaced: the server must stop.
    Fatal(String),
}

pub struct Forkers {
    active: ForkerHandle,
    spare: Option<ForkerHandle>,
    /// A spare was asked of the active forker and is not reported yet.
    spare_asked: bool,
    /// Forker deaths within `DEATH_WINDOW`.
    deaths: VecDeque<Instant>,
    /// Children the master must reap itself: dead forkers, and the workers they forked.
    adopted: HashSet<i32>,
    reaper: Reaper,
    on_event: OnEvent,
}

impl Forkers {
    /// Starts listening to the first forker.
    pub fn new(active: ForkerHandle, reaper: Reaper, on_event: OnEvent) -> io::Result<Self> {
        let forkers = Self {
            active,
            spare: None,
            spare_asked: false,
            deaths: VecDeque::new(),
            adopted: HashSet::new(),
            reaper,
            on_event,
        };
        forkers.listen(&forkers.active)?;
        Ok(forkers)
    }

    fn listen(&self, forker: &ForkerHandle) -> io::Result<()> {
        let (on_event, id) = (Arc::clone(&self.on_event), forker.id());
        forker.events(move |ev| on_event(id, ev))
    }

    /// The id of the forker that forks the workers now.
    pub fn active_id(&self) -> u64 {
        self.active.id()
    }

    /// Asks the active forker for worker `index` (its `generation`-th process).
    pub fn spawn(&self, index: u32, generation: u64) -> io::Result<()> {
        self.active.spawn(index, generation)
    }

    /// Asks the active forker for a spare, unless one is there or on its way, or forkers
    /// died too often lately (then the next death of the active forker stops the server).
    pub fn ask_spare(&mut self) {
        if self.spare.is_some() || self.spare_asked {
            return;
        }
        let deaths = self.recent_deaths(Instant::now());
        if deaths >= DEATH_LIMIT {
            crate::error!(
                "forker processes died {deaths} times within {DEATH_WINDOW:?}; no spare forker is \
                 kept: the server stops if the forker dies again"
            );
            return;
        }
        match self.active.ask_spare() {
            Ok(()) => self.spare_asked = true,
            Err(e) => crate::error!("cannot ask the forker (pid {}) for a spare: {e}", self.active.pid()),
        }
    }

    /// A forker reported the spare it forked.
    pub fn on_spare(&mut self, from: u64, spare: ForkerHandle) {
        if from != self.active.id() || self.spare.is_some() {
            spare.ask_quit(); // not asked for: let it go (its parent reaps it)
            return;
        }
        self.spare_asked = false;
        match self.listen(&spare) {
            Ok(()) => {
                crate::debug!("spare forker ready (pid {})", spare.pid());
                self.spare = Some(spare);
            }
            Err(e) => {
                crate::error!("cannot listen to the spare forker (pid {}): {e}", spare.pid());
                spare.ask_quit();
            }
        }
    }

    /// A forker could not fork a spare; the supervisor asks again later.
    pub fn on_spare_failed(&mut self, from: u64, error: &str) {
        if from == self.active.id() {
            self.spare_asked = false;
        }
        crate::error!("the forker could not fork a spare of itself: {error}");
    }

    /// Forker `id` is gone (its control channel closed). When it was the active one, the
    /// spare takes over, unless there is none or forkers die too often. While `stopping`
    /// no new spare is asked for.
    pub fn on_gone(&mut self, id: u64, stopping: bool) -> Loss {
        let now = Instant::now();
        if self.spare.as_ref().is_some_and(|s| s.id() == id) {
            let pid = self.spare.take().map_or(0, |s| s.pid());
            self.note_death(now);
            if !stopping {
                crate::warn!("the spare forker (pid {pid}) died; asking for another");
                self.ask_spare();
            }
            return Loss::Spare;
        }
        if id != self.active.id() {
            return Loss::Unknown;
        }
        let dead = self.active.pid();
        // The first forker is the master's child; a promoted spare became one when its
        // parent died. Either way its exit is the master's to reap.
        self.adopted.insert(dead);
        let deaths = self.note_death(now);
        if deaths >= DEATH_LIMIT {
            return Loss::Fatal(format!(
                "the forker process died, and forker processes died {deaths} times within \
                 {DEATH_WINDOW:?}"
            ));
        }
        let Some(spare) = self.spare.take() else {
            return Loss::Fatal("the forker process died and no spare forker was ready".into());
        };
        crate::warn!("the forker process (pid {dead}) died; its spare (pid {}) takes over", spare.pid());
        self.active = spare;
        // A spare asked of the dead forker never comes.
        self.spare_asked = false;
        if !stopping {
            self.ask_spare();
        }
        Loss::Promoted
    }

    fn note_death(&mut self, now: Instant) -> usize {
        self.deaths.push_back(now);
        self.recent_deaths(now)
    }

    fn recent_deaths(&mut self, now: Instant) -> usize {
        while self.deaths.front().is_some_and(|t| now.duration_since(*t) > DEATH_WINDOW) {
            self.deaths.pop_front();
        }
        self.deaths.len()
    }

    /// `pid` (a worker of a dead forker) is the master's to reap now.
    pub fn adopt(&mut self, pid: i32) {
        self.adopted.insert(pid);
    }

    /// Reaps the master's children that ended: adopted workers and forkers, and whatever
    /// else the kernel handed over (a daemon a worker started). Non-blocking.
    pub fn reap(&mut self) -> Vec<(i32, Exit)> {
        let mut ended: Vec<(i32, Exit)> =
            self.adopted.iter().filter_map(|&pid| reaper::try_reap(pid).map(|exit| (pid, exit))).collect();
        ended.extend(self.reaper.sweep());
        for (pid, _) in &ended {
            self.adopted.remove(pid);
        }
        ended
    }

    /// Ends every forker and what the master adopted, within `wait` (then kills): the
    /// spare and the active forker are told to quit (a forker waits for its workers and its
    /// spare), then the master waits for its own children. Blocks.
    pub fn quit(mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        if let Some(spare) = &self.spare {
            spare.ask_quit();
        }
        self.active.ask_quit();
        reaper::wait_or_kill(self.active.pid(), deadline);
        // The spare is the active forker's child (reaped by it), unless that one died and
        // the master adopted it: then it is waited for here.
        if let Some(spare) = &self.spare {
            reaper::wait_or_kill(spare.pid(), deadline);
        }
        for pid in std::mem::take(&mut self.adopted) {
            reaper::wait_or_kill(pid, deadline);
        }
        // What a forker killed on its way out, handed to the master.
        let _ = self.reaper.sweep();
    }
}
