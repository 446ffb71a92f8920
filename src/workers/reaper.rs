//! The master as a child subreaper: when a forker dies, the kernel gives its children (the
//! workers it forked, its spare) to the master instead of to init, so the master can still
//! learn how they end, wait for them on shutdown, and leave no zombie behind (decision 0009).
//!
//! Owns: the `PR_SET_CHILD_SUBREAPER` setting while a multi-worker server runs (restored on
//! drop), reaping the master's children, a bounded wait-then-kill for one child, and how a
//! child ended (`Exit`, also what the forker reports of its own children).
//! Does not own: what an exit means (`workers::master`), which processes were adopted
//! (`workers::forkers`).
//!
//! Invariants: `Reaper::start` runs while the master has one thread (before the forker is
//! forked). Only the supervisor task reaps, so a pid it waits for cannot be reaped, freed and
//! reused under it. Children the script had before `start()` are left alone: their exit
//! status belongs to whoever started them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How a child process (a worker, a forker) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    /// From a `waitpid` status.
    pub fn from_status(status: libc::c_int) -> Self {
        if libc::WIFSIGNALED(status) {
            Self::Signal(libc::WTERMSIG(status))
        } else {
            Self::Code(libc::WEXITSTATUS(status))
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(c) => write!(f, "exit code {c}"),
            Self::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// The subreaper setting of this process, and the children that are not ours to reap.
pub struct Reaper {
    /// `PR_GET_CHILD_SUBREAPER` before `start`, restored on drop.
    previous: libc::c_int,
    /// Children this process had before `start` (started by the script).
    foreign: HashSet<i32>,
}

impl Reaper {
    /// Makes this process a child subreaper. A failure is logged, not fatal: the server then
    /// runs as before, except that the workers of a dead forker go to init.
    pub fn start() -> Self {
        let mut previous: libc::c_int = 0;
        // SAFETY: PR_GET_CHILD_SUBREAPER writes one int through the pointer.
        unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut previous as *mut libc::c_int) };
        // SAFETY: sets a flag of this process; no pointer involved.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong) } != 0 {
            crate::warn!(
                "cannot become the subreaper of the workers: {}; a dead forker's workers will be \
                 reaped by init",
                std::io::Error::last_os_error()
            );
        }
        Self { previous, foreign: children_of_self().unwrap_or_default() }
    }

    /// Reaps every child that ended, except the script's own: (pid, how it ended).
    /// Bounded by the number of children.
    pub fn sweep(&self) -> Vec<(i32, Exit)> {
        match children_of_self() {
            Some(children) => children
                .into_iter()
                .filter(|pid| !self.foreign.contains(pid))
                .filter_map(|pid| try_reap(pid).map(|exit| (pid, exit)))
                .collect(),
            None => self.sweep_without_proc(),
        }
    }

    /// `sweep` where the kernel lists no children: look at whichever child ended first
    /// (WNOWAIT), reap it unless it is the script's. A child of the script that ended stops
    /// the sweep there (until its owner reaps it); known pids are still reaped by `try_reap`.
    fn sweep_without_proc(&self) -> Vec<(i32, Exit)> {
        let mut ended = Vec::new();
        loop {
            // SAFETY: a zeroed siginfo_t is valid for waitid to fill.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: waitid fills `info`; nothing is reaped with WNOWAIT.
            let r = unsafe {
                libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT)
            };
            // SAFETY: si_pid is valid in the SIGCHLD siginfo waitid fills (0 if none ended).
            let pid = unsafe { info.si_pid() };
            if r != 0 || pid <= 0 || self.foreign.contains(&pid) {
                return ended;
            }
            match try_reap(pid) {
                Some(exit) => ended.push((pid, exit)),
                None => return ended,
            }
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        // SAFETY: restores a flag of this process.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, self.previous as libc::c_ulong) };
    }
}

/// Reaps `pid` if it ended. `None` while it runs, and while it is not a child of this
/// process (not yet adopted, or already reaped).
pub fn try_reap(pid: i32) -> Option<Exit> {
    let mut status = 0;
    // SAFETY: waits for one child without blocking.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (r == pid).then(|| Exit::from_status(status))
}

/// Waits until child `pid` ended and reaps it; kills it at `deadline`. Returns at once if
/// `pid` is not a child of this process.
pub fn wait_or_kill(pid: i32, deadline: Instant) -> Option<Exit> {
    loop {
        let mut status = 0;
        // SAFETY: waits for one child without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(Exit::from_status(status));
        }
        if r < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return None; // not our child (any more)
        }
        if Instant::now() >= deadline {
            // SAFETY: our own child, not reaped (waitpid just said it runs): the pid is its.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Some(Exit::from_status(status));
        }
        std::thread::sleep(Duration::from_millis(5)); // an exit has no event to await here
    }
}

/// The children of this process now (zombies included), from every thread's `children`
/// list; `None` where the kernel offers no such list (CONFIG_PROC_CHILDREN).
fn children_of_self() -> Option<HashSet<i32>> {
    let mut out = HashSet::new();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        // A thread may end between the listing and the read: skip it, but a missing file
        // in the thread that reads is a kernel without the lists.
        match std::fs::read_to_string(task.path().join("children")) {
            Ok(list) => out.extend(list.split_whitespace().filter_map(|p| p.parse::<i32>().ok())),
            Err(_) if task.file_name().to_str() == Some(gettid().to_string().as_str()) => return None,
            Err(_) => {}
        }
    }
    Some(out)
}

fn gettid() -> libc::pid_t {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forks a child that runs `f` (async-signal-safe calls only: the test harness has
    /// threads) and `_exit`s with its result.
    fn fork_child(f: impl FnOnce() -> i32) -> i32 {
        // SAFETY: the child only makes async-signal-safe calls and `_exit`s.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let code = f();
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        pid
    }

    /// A grandchild orphaned by its parent is adopted and reaped with its exit code; the
    /// child that existed before `start` is left for its owner.
    #[test]
    fn adopts_and_reaps_orphans_but_not_older_children() {
        let mut fds = [0; 2];
        // SAFETY: creates a pipe into `fds`.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (read, write) = (fds[0], fds[1]);
        let older = fork_child(|| 3);
        let reaper = Reaper::start();
        let parent = fork_child(|| {
            // The grandchild waits for the pipe to close (the test's signal), then exits 7.
            fork_child(|| {
                // SAFETY: closing and reading descriptors of this process.
                unsafe {
                    libc::close(write);
                    let mut b = 0u8;
                    libc::read(read, (&mut b as *mut u8).cast(), 1);
                }
                7
            });
            0
        });
        // SAFETY: closing this process's descriptor.
        unsafe { libc::close(read) };
        assert_eq!(wait_or_kill(parent, Instant::now() + Duration::from_secs(5)), Some(Exit::Code(0)));
        // SAFETY: the grandchild sees EOF and exits.
        unsafe { libc::close(write) };
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut reaped = Vec::new();
        while !reaped.iter().any(|(_, e)| *e == Exit::Code(7)) {
            assert!(Instant::now() < deadline, "the orphan was not adopted: {reaped:?}");
            reaped.extend(reaper.sweep());
            std::thread::sleep(Duration::from_millis(5)); // polling another process's exit
        }
        assert!(reaped.iter().all(|(p, _)| *p != older), "an older child was reaped: {reaped:?}");
        drop(reaper);
        assert_eq!(wait_or_kill(older, Instant::now() + Duration::from_secs(5)), Some(Exit::Code(3)));
        assert_eq!(wait_or_kill(older, Instant::now()), None, "not a child any more");
    }
}
