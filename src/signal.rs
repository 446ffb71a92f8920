//! Process signals (SIGTERM, SIGINT, …) turned into calls on a Tokio task.
//!
//! Owns: the signal handlers while a server runs, and restoring the previous ones after.
//! Why not `tokio::signal`: its handlers stay installed for the life of the process, so
//! Ctrl-C would no longer stop a script after `Server::start()` returned.
//!
//! The handler only writes the signal number to a self-pipe (async-signal-safe); a Tokio
//! task reads the pipe and calls back. PHP is never called from here.
//! Invariant: one `SignalGuard` at a time per process.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use tokio::io::AsyncReadExt;
use tokio::task::JoinHandle;

static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
static INSTALLED: Mutex<bool> = Mutex::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: only async-signal-safe calls: errno save/restore and write(2).
    unsafe {
        let errno = *libc::__errno_location();
        let fd = WRITE_FD.load(Ordering::Relaxed);
        if fd >= 0 {
            let b = sig as u8;
            libc::write(fd, (&b as *const u8).cast(), 1);
        }
        *libc::__errno_location() = errno;
    }
}

/// Restores the previous handlers and stops the reader task when dropped.
pub struct SignalGuard {
    previous: Vec<(libc::c_int, libc::sigaction)>,
    _write: OwnedFd,
    task: JoinHandle<()>,
}

/// Installs handlers for `signals`; `callback` runs on a Tokio task for each delivery.
pub fn install<F>(
    rt: &tokio::runtime::Handle,
    signals: &[libc::c_int],
    callback: F,
) -> io::Result<SignalGuard>
where
    F: Fn(libc::c_int) + Send + 'static,
{
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if *installed {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "signal handlers already installed"));
    }
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds is a valid 2-element array; pipe2 fills it on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut reader = {
        let _enter = rt.enter();
        tokio::net::unix::pipe::Receiver::from_owned_fd(read)?
    };
    WRITE_FD.store(write.as_raw_fd(), Ordering::SeqCst);

    let mut previous = Vec::with_capacity(signals.len());
    for &sig in signals {
        // SAFETY: zeroed sigaction is a valid "no flags, empty mask" value; the handler is
        // an extern "C" fn with the signature sa_handler expects.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, &action, &mut old) != 0 {
                let err = io::Error::last_os_error();
                restore(&previous);
                WRITE_FD.store(-1, Ordering::SeqCst);
                return Err(err);
            }
            previous.push((sig, old));
        }
    }

    let task = rt.spawn(async move {
        let mut buf = [0u8; 64];
        while let Ok(n) = reader.read(&mut buf).await {
            if n == 0 {
                return;
            }
            for &sig in &buf[..n] {
                callback(libc::c_int::from(sig));
            }
        }
    });
    *installed = true;
    Ok(SignalGuard { previous, _write: write, task })
}

fn restore(previous: &[(libc::c_int, libc::sigaction)]) {
    for (sig, old) in previous {
        // SAFETY: restoring an action previously returned by sigaction.
        unsafe {
            libc::sigaction(*sig, old, std::ptr::null_mut());
        }
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        restore(&self.previous);
        WRITE_FD.store(-1, Ordering::SeqCst);
        self.task.abort();
        *INSTALLED.lock().unwrap_or_else(|e| e.into_inner()) = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn delivers_and_restores() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (tx, rx) = mpsc::channel();
        let guard = install(rt.handle(), &[libc::SIGUSR2], move |s| {
            let _ = tx.send(s);
        })
        .unwrap();
        // SAFETY: sending a signal to ourselves, with our handler installed.
        unsafe { libc::raise(libc::SIGUSR2) };
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), libc::SIGUSR2);
        drop(guard);
        // SAFETY: reading the current disposition only.
        let current = unsafe {
            let mut cur: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGUSR2, std::ptr::null(), &mut cur);
            cur.sa_sigaction
        };
        assert_eq!(current, libc::SIG_DFL, "the previous (default) handler is back");
    }
}
