//! How the kernel schedules a thread that works in batches for another one.
//!
//! A thread woken with work it may take a little later — the access log's writer, a worker
//! whose master has just handed it requests — runs as `SCHED_BATCH`: when it wakes it does
//! not preempt the thread running on that CPU (an I/O thread in the middle of its
//! connections) but waits for that thread's slice to end or for it to sleep, and by then
//! more work has queued for it. Its share of the CPU stays that of a normal thread at the
//! same nice value. On an idle CPU it runs at once, as before.
//!
//! A thread that runs under another policy than the default (a service manager's
//! `CPUSchedulingPolicy=`, `chrt`) keeps it: the operator's choice wins.

/// Whether the calling thread runs as `SCHED_BATCH` afterwards. Threads it starts later
/// inherit the policy. `who` names the thread in the debug line of a refusal.
pub fn batch(who: &str) -> bool {
    // SAFETY: plain system calls on the calling thread (pid 0) with a valid param.
    unsafe {
        match libc::sched_getscheduler(0) {
            libc::SCHED_OTHER => {}
            policy => return policy == libc::SCHED_BATCH,
        }
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) != 0 {
            crate::debug!("{who}: SCHED_BATCH refused: {}", std::io::Error::last_os_error());
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> i32 {
        // SAFETY: a plain system call on the calling thread.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[test]
    fn a_default_thread_becomes_batch_and_its_threads_inherit_it() {
        std::thread::spawn(|| {
            if policy() != libc::SCHED_OTHER {
                eprintln!("skipped: the tests run under a policy of their own");
                return;
            }
            assert!(batch("test"));
            assert_eq!(policy(), libc::SCHED_BATCH);
            assert!(batch("test"), "a second call finds it batch already");
            let child = std::thread::spawn(policy).join().unwrap();
            assert_eq!(child, libc::SCHED_BATCH);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn another_policy_is_left_alone() {
        std::thread::spawn(|| {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: as in `batch`; SCHED_IDLE needs no privilege.
            assert_eq!(unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) }, 0);
            assert!(!batch("test"));
            assert_eq!(policy(), libc::SCHED_IDLE);
        })
        .join()
        .unwrap();
    }
}
