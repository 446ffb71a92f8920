//! The forker: a single-threaded process, forked from the master before the master has any
//! thread, that forks every worker (at start, after a crash, on reload) and reports their
//! exits. A process with threads must never fork; this one never has any.
//!
//! Owns: the control channel to the master (a SOCK_SEQPACKET socketpair: one message per
//! datagram, worker link sockets passed with SCM_RIGHTS), forking, reaping, and forking a
//! *spare* of itself on request: a copy with no children on a control channel of its own,
//! which the master promotes when this forker dies (decision 0009).
//! Does not own: when to spawn (the master decides), what a worker runs (the caller of
//! `start` continues as the worker when it returns `Forked::Worker`), which forker is the
//! active one (`workers::forkers`), reaping what a dead forker leaves (`workers::reaper`).
//!
//! Invariant: a forker's end of its control channel is held by that forker only (its
//! workers and its spare close it), so the master sees EOF exactly when it dies.
//!
//! Signals: the forker and its workers ignore SIGINT, SIGTERM, SIGUSR1 and SIGHUP — a
//! terminal's Ctrl-C or a service manager signals the whole process group, and only the
//! master may turn that into an orderly drain. SIGKILL still works. A worker whose link
//! closes (its master died) exits on its own; a forker exits when its control channel
//! closes (or on `MSG_QUIT`), after its workers and its spare are gone.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::reaper::{self, Exit, Reaper};

/// What the caller of `start` is after it returns.
pub enum Forked {
    /// Still the master, with the forker running, and now the subreaper of what it forks.
    Master(ForkerHandle, Reaper),
    /// A new worker process: serve on `link`.
    Worker(WorkerSeed),
}

#[derive(Debug)]
pub struct WorkerSeed {
    pub index: u32,
    pub generation: u64,
    pub link: OwnedFd,
}

/// Reported by the forker to the master.
#[derive(Debug)]
pub enum ForkerEvent {
    Spawned {
        index: u32,
        generation: u64,
        pid: i32,
        link: OwnedFd,
    },
    SpawnFailed {
        index: u32,
        generation: u64,
        error: String,
    },
    Exited {
        pid: i32,
        exit: Exit,
    },
    /// The spare asked for with `ask_spare`: a forker with no children, idle until the
    /// master sends it work.
    Spare(ForkerHandle),
    SpareFailed {
        error: String,
    },
    /// The forker itself is gone: it starts no more workers.
    Gone,
}

const MSG_SPAWN: u8 = 1;
const MSG_QUIT: u8 = 2;
const MSG_SPARE: u8 = 3;
const MSG_SPAWNED: u8 = 10;
const MSG_SPAWN_FAILED: u8 = 11;
const MSG_EXITED: u8 = 12;
const MSG_SPARE_READY: u8 = 13;
const MSG_SPARE_FAILED: u8 = 14;

/// Names forker processes for the master's lifetime (a pid can be reused once reaped).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The master's end of one forker's control channel.
#[derive(Debug)]
pub struct ForkerHandle {
    ctl: OwnedFd,
    pid: i32,
    id: u64,
}

impl ForkerHandle {
    fn new(ctl: OwnedFd, pid: i32) -> Self {
        Self { ctl, pid, id: NEXT_ID.fetch_add(1, Ordering::Relaxed) }
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Unique among the forkers of this process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Asks for worker `index` (its `generation`-th process).
    pub fn spawn(&self, index: u32, generation: u64) -> io::Result<()> {
        let m = message(MSG_SPAWN, &[&index.to_le_bytes(), &generation.to_le_bytes()]);
        send(self.ctl.as_raw_fd(), &m, None)
    }

    /// Asks for a spare forker, reported as `Spare` (or `SpareFailed`).
    pub fn ask_spare(&self) -> io::Result<()> {
        send(self.ctl.as_raw_fd(), &[MSG_SPARE], None)
    }

    /// Starts the thread that turns the forker's messages into calls of `on_event`, ending
    /// with `Gone` when the forker's end closes (it died or quit), or when `on_event`
    /// returns false.
    pub fn events(&self, on_event: impl Fn(ForkerEvent) -> bool + Send + 'static) -> io::Result<()> {
        // SAFETY: dup of our own descriptor; the thread owns the copy.
        let fd = unsafe { libc::fcntl(self.ctl.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        std::thread::Builder::new().name("via-forker-events".into()).spawn(move || loop {
            let ev = match recv(fd.as_raw_fd()) {
                Ok(Some((msg, passed))) => match parse_event(&msg, passed) {
                    Some(ev) => ev,
                    None => continue,
                },
                Ok(None) | Err(_) => {
                    on_event(ForkerEvent::Gone);
                    return;
                }
            };
            if !on_event(ev) {
                return;
            }
        })?;
        Ok(())
    }

    /// Tells the forker to exit once its workers (and its spare) are gone.
    pub fn ask_quit(&self) {
        let _ = send(self.ctl.as_raw_fd(), &[MSG_QUIT], None);
    }

    /// Tells the forker to exit and waits for it (bounded; killed after `wait`). Returns at
    /// once if it is not, or no longer, a child of this process (another wait reaped it).
    pub fn quit(self, wait: Duration) {
        self.ask_quit();
        reaper::wait_or_kill(self.pid, Instant::now() + wait);
    }
}

fn parse_event(m: &[u8], passed: Option<OwnedFd>) -> Option<ForkerEvent> {
    let u32_at = |i: usize| m.get(i..i + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
    let u64_at = |i: usize| m.get(i..i + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    let i32_at = |i: usize| u32_at(i).map(|v| v as i32);
    match *m.first()? {
        MSG_SPAWNED => Some(ForkerEvent::Spawned {
            index: u32_at(1)?,
            generation: u64_at(5)?,
            pid: i32_at(13)?,
            link: passed?,
        }),
        MSG_SPAWN_FAILED => Some(ForkerEvent::SpawnFailed {
            index: u32_at(1)?,
            generation: u64_at(5)?,
            error: io::Error::from_raw_os_error(i32_at(13)?).to_string(),
        }),
        MSG_EXITED => {
            let pid = i32_at(1)?;
            let code = i32_at(5)?;
            let sig = i32_at(9)?;
            Some(ForkerEvent::Exited {
                pid,
                exit: if sig != 0 { Exit::Signal(sig) } else { Exit::Code(code) },
            })
        }
        MSG_SPARE_READY => Some(ForkerEvent::Spare(ForkerHandle::new(passed?, i32_at(1)?))),
        MSG_SPARE_FAILED => {
            Some(ForkerEvent::SpareFailed { error: io::Error::from_raw_os_error(i32_at(1)?).to_string() })
        }
        _ => None,
    }
}

/// The number of threads of this process (1 = safe to fork).
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(1)
}

/// Forks the forker, after making this process the subreaper of what it forks (so the
/// workers of a forker that dies are this process's to reap). `close_in_children` are
/// descriptors only the master needs (the listener). Must be called while this process has
/// one thread.
pub fn start(close_in_children: &[RawFd]) -> io::Result<Forked> {
    let threads = thread_count();
    if threads > 1 {
        return Err(io::Error::other(format!(
            "this process already runs {threads} threads; workers can only be forked from a \
             process without threads (start the server before anything that starts threads)"
        )));
    }
    let (master_end, forker_end) = socketpair(libc::SOCK_SEQPACKET)?;
    let reaper = Reaper::start();
    // SAFETY: this process is single-threaded (checked above).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid > 0 {
        drop(forker_end);
        return Ok(Forked::Master(ForkerHandle::new(master_end, pid), reaper));
    }
    // The forker: the subreaper setting is not inherited, and the master's is not ours to
    // restore.
    std::mem::forget(reaper);
    drop(master_end);
    for &fd in close_in_children {
        // SAFETY: closing inherited descriptors the forker must not hold.
        unsafe { libc::close(fd) };
    }
    Ok(Forked::Worker(forker_main(forker_end)))
}

fn ignore_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1, libc::SIGUSR2, libc::SIGHUP, libc::SIGPIPE] {
        // SAFETY: setting a signal disposition to ignore.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
}

/// What a forker's loop turned this process into.
enum Next {
    /// A new worker process.
    Worker(WorkerSeed),
    /// A new spare forker, on its own control channel.
    Spare(OwnedFd),
}

/// The forker's life. Returns only in a new worker process; a forker exits here.
fn forker_main(ctl: OwnedFd) -> WorkerSeed {
    ignore_signals();
    // SIGCHLD arrives through a signalfd, polled with the control socket. A spare keeps it:
    // after fork a signalfd reads the signals of the process that reads it.
    // SAFETY: plain signal-mask and signalfd calls on this single-threaded process.
    let (old_mask, sigfd) = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
        (old, libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK))
    };
    if sigfd < 0 {
        crate::error!("forker: signalfd failed: {}", io::Error::last_os_error());
        // SAFETY: ends the forker.
        unsafe { libc::_exit(1) };
    }
    let mut ctl = ctl;
    loop {
        match serve(&ctl, sigfd, &old_mask) {
            Next::Worker(seed) => return seed, // `ctl` closes here: only the forker holds it
            // A spare: the parent's channel closes with this assignment.
            Next::Spare(own) => ctl = own,
        }
    }
}

/// One forker's loop, with no children at first.
fn serve(ctl: &OwnedFd, sigfd: RawFd, old_mask: &libc::sigset_t) -> Next {
    let mut children: Vec<i32> = Vec::new();
    let mut quitting = false;
    loop {
        let mut pfd = [
            libc::pollfd { fd: ctl.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: sigfd, events: libc::POLLIN, revents: 0 },
        ];
        let timeout = if quitting { 50 } else { -1 };
        // SAFETY: polls two descriptors we own.
        let n = unsafe { libc::poll(pfd.as_mut_ptr(), 2, timeout) };
        if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
        if pfd[1].revents != 0 || quitting {
            let mut info = [0u8; 128];
            // SAFETY: drains the signalfd into a buffer of siginfo size.
            while unsafe { libc::read(sigfd, info.as_mut_ptr().cast(), info.len()) } > 0 {}
            reap(ctl, &mut children);
        }
        if quitting {
            if children.is_empty() {
                break;
            }
            continue;
        }
        if pfd[0].revents & (libc::POLLHUP | libc::POLLERR) != 0 && pfd[0].revents & libc::POLLIN == 0 {
            quitting = true;
            continue;
        }
        if pfd[0].revents & libc::POLLIN != 0 {
            match recv(ctl.as_raw_fd()) {
                Ok(Some((m, _))) if m.first() == Some(&MSG_SPAWN) && m.len() >= 13 => {
                    let index = u32::from_le_bytes(m[1..5].try_into().unwrap_or([0; 4]));
                    let generation = u64::from_le_bytes(m[5..13].try_into().unwrap_or([0; 8]));
                    if let Some(seed) = spawn(ctl, sigfd, old_mask, index, generation, &mut children) {
                        return Next::Worker(seed);
                    }
                }
                Ok(Some((m, _))) if m.first() == Some(&MSG_SPARE) => {
                    if let Some(own) = fork_spare(ctl, &mut children) {
                        return Next::Spare(own);
                    }
                }
                Ok(Some((m, _))) if m.first() == Some(&MSG_QUIT) => quitting = true,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => quitting = true,
            }
        }
    }
    // Workers that outlive the wait are killed: nothing may serve without a master.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !children.is_empty() && Instant::now() < deadline {
        reap(ctl, &mut children);
        std::thread::sleep(Duration::from_millis(10)); // no thread here to wait on; bounded
    }
    for &pid in &children {
        // SAFETY: our own children; a killed process ends at once, so the wait is short and
        // no zombie is left for the master to adopt.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    // SAFETY: ends the forker without running the PHP shutdown it inherited.
    unsafe { libc::_exit(0) }
}

fn reap(ctl: &OwnedFd, children: &mut Vec<i32>) {
    loop {
        let mut status = 0;
        // SAFETY: reaps any exited child without blocking.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return;
        }
        children.retain(|&c| c != pid);
        let (code, sig) = match Exit::from_status(status) {
            Exit::Signal(sig) => (-1, sig),
            Exit::Code(code) => (code, 0),
        };
        let m = message(MSG_EXITED, &[&pid.to_le_bytes(), &code.to_le_bytes(), &sig.to_le_bytes()]);
        let _ = send(ctl.as_raw_fd(), &m, None);
    }
}

fn spawn(
    ctl: &OwnedFd,
    sigfd: RawFd,
    old_mask: &libc::sigset_t,
    index: u32,
    generation: u64,
    children: &mut Vec<i32>,
) -> Option<WorkerSeed> {
    let (index_bytes, generation_bytes) = (index.to_le_bytes(), generation.to_le_bytes());
    let fail = |err: i32| {
        let m = message(MSG_SPAWN_FAILED, &[&index_bytes, &generation_bytes, &err.to_le_bytes()]);
        let _ = send(ctl.as_raw_fd(), &m, None);
    };
    let (pid, master_end, worker_end) = fork_with_channel(libc::SOCK_STREAM, fail)?;
    if pid == 0 {
        // The worker: nothing of the forker's control remains.
        drop(master_end);
        // SAFETY: closes the signalfd and restores the signal mask; the ignored signals stay
        // ignored (see the module docs). `ctl` closes when `forker_main` returns.
        unsafe {
            libc::close(sigfd);
            libc::signal(libc::SIGCHLD, libc::SIG_DFL);
            libc::sigprocmask(libc::SIG_SETMASK, old_mask, std::ptr::null_mut());
        }
        return Some(WorkerSeed { index, generation, link: worker_end });
    }
    drop(worker_end);
    children.push(pid);
    let m = message(MSG_SPAWNED, &[&index_bytes, &generation_bytes, &pid.to_le_bytes()]);
    let _ = send(ctl.as_raw_fd(), &m, Some(master_end.as_raw_fd()));
    None
}

/// Forks a spare of this forker: in the child, returns its end of a new control channel
/// (the caller starts over on it with no children); in this forker, passes the master's end
/// and the spare's pid to the master. The spare counts as a child: a quitting forker waits
/// for it too.
fn fork_spare(ctl: &OwnedFd, children: &mut Vec<i32>) -> Option<OwnedFd> {
    let fail = |err: i32| {
        let _ = send(ctl.as_raw_fd(), &message(MSG_SPARE_FAILED, &[&err.to_le_bytes()]), None);
    };
    let (pid, master_end, spare_end) = fork_with_channel(libc::SOCK_SEQPACKET, fail)?;
    if pid == 0 {
        // The spare: it keeps the signalfd and the signal mask; `serve` drops the parent's
        // children and the caller its control channel.
        drop(master_end);
        return Some(spare_end);
    }
    drop(spare_end);
    children.push(pid);
    let m = message(MSG_SPARE_READY, &[&pid.to_le_bytes()]);
    let _ = send(ctl.as_raw_fd(), &m, Some(master_end.as_raw_fd()));
    None
}

/// Forks with a new channel between the two processes (a socketpair of `kind`): the pid
/// (0 in the child), the parent's end, the child's end; each process drops the end that is
/// not its own. A failure is reported through `fail` (its errno) and gives `None`.
fn fork_with_channel(kind: libc::c_int, fail: impl Fn(i32)) -> Option<(i32, OwnedFd, OwnedFd)> {
    let errno = |e: io::Error| e.raw_os_error().unwrap_or(0);
    let (parent_end, child_end) = match socketpair(kind) {
        Ok(pair) => pair,
        Err(e) => {
            fail(errno(e));
            return None;
        }
    };
    // SAFETY: the forker is single-threaded.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        fail(errno(io::Error::last_os_error()));
        return None;
    }
    Some((pid, parent_end, child_end))
}

/// A connected pair of Unix sockets of `kind` (`SOCK_STREAM` for a worker's link,
/// `SOCK_SEQPACKET` for a forker's control channel), close-on-exec.
fn socketpair(kind: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: creates a socketpair into `fds`.
    if unsafe { libc::socketpair(libc::AF_UNIX, kind | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A control message: its kind, then the fields' bytes in order (integers little-endian,
/// as `parse_event` and `serve` read them).
fn message(kind: u8, fields: &[&[u8]]) -> Vec<u8> {
    let mut m = vec![kind];
    for f in fields {
        m.extend_from_slice(f);
    }
    m
}

/// Sends one datagram, with a descriptor attached when given.
fn send(fd: RawFd, msg: &[u8], pass: Option<RawFd>) -> io::Result<()> {
    let mut iov = libc::iovec { iov_base: msg.as_ptr() as *mut _, iov_len: msg.len() };
    // SAFETY: CMSG_SPACE of one int.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: a zeroed msghdr is valid; fields are filled below.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    if let Some(pfd) = pass {
        hdr.msg_control = control.as_mut_ptr().cast();
        hdr.msg_controllen = space as _;
        // SAFETY: the control buffer holds one cmsg with one int.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&hdr);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), pfd);
        }
    }
    loop {
        // SAFETY: a valid msghdr pointing at live buffers.
        let r = unsafe { libc::sendmsg(fd, &hdr, libc::MSG_NOSIGNAL) };
        if r >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receives one datagram and a passed descriptor, if any. `None` at end of stream.
fn recv(fd: RawFd) -> io::Result<Option<(Vec<u8>, Option<OwnedFd>)>> {
    let mut buf = [0u8; 64];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: CMSG_SPACE of one int.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: a zeroed msghdr is valid; fields are filled below.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = control.as_mut_ptr().cast();
    hdr.msg_controllen = space as _;
    let n = loop {
        // SAFETY: a valid msghdr pointing at live buffers.
        let r = unsafe { libc::recvmsg(fd, &mut hdr, libc::MSG_CMSG_CLOEXEC) };
        if r >= 0 {
            break r as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    if n == 0 {
        return Ok(None);
    }
    let mut passed = None;
    // SAFETY: walks the control messages the kernel wrote into `control`.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&hdr);
        if !c.is_null() && (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
            let pfd = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
            passed = Some(OwnedFd::from_raw_fd(pfd));
        }
    }
    Ok(Some((buf[..n].to_vec(), passed)))
}
