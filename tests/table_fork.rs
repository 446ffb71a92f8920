//! Via\Table's core across real processes: forks share the table, counters stay exact,
//! reads that take no lock never see a torn row or miss a key while others write, a
//! process killed while holding the lock does not stall the others (nor leaves readers
//! its half-written row), and capacity is exact under colliding keys.
//!
//! A plain `main` (harness = false): forking from the multi-threaded test harness could
//! leave a child holding a lock another thread had at the fork.

use std::time::{Duration, Instant};

use via::table::{ColumnType, KeyHash, Table, TableError, Value, ValueRef};

fn fork(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: this process is single-threaded (no harness threads, no runtime).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = child();
        // SAFETY: leaves the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Whether `pid` has exited (reaped later by `wait`: `WNOWAIT`).
fn exited(pid: libc::pid_t) -> bool {
    // SAFETY: a zeroed siginfo for waitid to fill; waits for our own child without reaping.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let r = unsafe {
        libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT)
    };
    // SAFETY: waitid filled `info` (si_pid is 0 while the child runs).
    r == 0 && unsafe { info.si_pid() } == pid
}

/// Waits for `pid`; returns (exited normally with code, killed by signal).
fn wait(pid: libc::pid_t) -> (Option<i32>, Option<i32>) {
    let mut status = 0;
    // SAFETY: waits for our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid);
    if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    }
}

fn schema() -> Vec<(String, ColumnType)> {
    vec![("n".into(), ColumnType::Int), ("s".into(), ColumnType::Str(16)), ("f".into(), ColumnType::Float)]
}

fn concurrent_increments_sum_exactly() {
    const PROCS: usize = 4;
    const EACH: i64 = 50_000;
    let t = Table::new(16, schema(), 16).unwrap();
    let pids: Vec<_> = (0..PROCS)
        .map(|_| {
            fork(|| {
                for _ in 0..EACH {
                    if t.incr_int(b"counter", 0, 1).is_err() {
                        return 1;
                    }
                }
                0
            })
        })
        .collect();
    for _ in 0..EACH {
        t.incr_int(b"counter", 0, 1).unwrap();
    }
    for pid in pids {
        assert_eq!(wait(pid), (Some(0), None));
    }
    let want = EACH * (PROCS as i64 + 1);
    assert_eq!(t.get_column(b"counter", 0).unwrap(), Some(Value::Int(want)));
    println!("ok: {} processes × {EACH} incr = {want}", PROCS + 1);
}

fn a_process_killed_holding_the_lock_is_recovered() {
    let t = Table::new(16, schema(), 16).unwrap();
    t.set(b"row", &[(0, ValueRef::Int(7)), (1, ValueRef::Str(b"intact"))]).unwrap();
    // The crasher takes the lock, starts rewriting a string and dies with SIGKILL; then a
    // second process and this one both need the lock.
    let crasher = fork(|| t.crash_while_writing(b"row", 1));
    assert_eq!(wait(crasher), (None, Some(libc::SIGKILL)));
    let waiter = fork(|| match t.incr_int(b"row", 0, 1) {
        Ok(_) => 0,
        Err(_) => 1,
    });
    let started = Instant::now();
    let got = t.incr_int(b"row", 0, 1).unwrap();
    let took = started.elapsed();
    assert_eq!(wait(waiter), (Some(0), None));
    assert!(took < Duration::from_secs(2), "recovery took {took:?}");
    assert!(got == 8 || got == 9, "counter after recovery: {got}");
    assert_eq!(t.get_column(b"row", 0).unwrap(), Some(Value::Int(9)));
    assert_eq!(
        t.get_column(b"row", 1).unwrap(),
        Some(Value::Str(b"intact".to_vec())),
        "the half-written string was rolled back"
    );
    assert_eq!(t.recoveries(), 1);
    assert_eq!(t.count(), 1);
    println!("ok: lock of a killed process recovered in {took:?}, torn write rolled back");
}

fn a_process_killed_mid_insert_leaves_a_consistent_table() {
    let t = Table::new(8, schema(), 16).unwrap();
    for i in 0..4 {
        t.incr_int(format!("k{i}").as_bytes(), 0, 1).unwrap();
    }
    // Kill children at random points of an insert/delete loop; the table must stay usable
    // and its count must match its rows.
    for round in 0..20 {
        let pid = fork(|| {
            let mut i = 0u64;
            loop {
                let key = [b'x', b'0' + (i % 4) as u8];
                let _ = t.set(&key, &[(0, ValueRef::Int(i as i64)), (1, ValueRef::Str(b"payload"))]);
                let _ = t.del(&key);
                i += 1;
            }
        });
        std::thread::sleep(Duration::from_micros(200 + round * 137));
        // SAFETY: kills our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        assert_eq!(wait(pid).1, Some(libc::SIGKILL));
        let rows = t.rows();
        assert_eq!(rows.len(), t.count(), "round {round}: count matches the rows");
        for (key, values) in &rows {
            if key[0] == b'x' {
                assert_eq!(values[1], Value::Str(b"payload".to_vec()), "no torn row");
            }
        }
        for i in 0..4 {
            assert_eq!(t.get_column(format!("k{i}").as_bytes(), 0).unwrap(), Some(Value::Int(1)));
        }
    }
    println!("ok: 20 kills mid insert/delete, {} recoveries, table consistent", t.recoveries());
}

/// The row a writer writes as its `i`th: every column says `i`.
fn row_of(i: i64) -> (i64, String, f64) {
    (i, format!("{i:016}"), i as f64)
}

fn reads_never_see_a_torn_row_or_miss_a_key_while_another_process_writes() {
    const WRITES: i64 = 400_000;
    let t = Table::new(16, schema(), 16).unwrap();
    let (n, s, f) = row_of(0);
    t.set(b"hot", &[(0, ValueRef::Int(n)), (1, ValueRef::Str(s.as_bytes())), (2, ValueRef::Float(f))])
        .unwrap();
    // The writer rewrites the row "hot" whole, and inserts and deletes keys it never uses
    // again: their tombstones pile up and rebuild the index (every slot cleared, then
    // filled again) every few deletes, while "hot" stays.
    let writer = fork(|| {
        for i in 1..=WRITES {
            let (n, s, f) = row_of(i);
            let row = [(0, ValueRef::Int(n)), (1, ValueRef::Str(s.as_bytes())), (2, ValueRef::Float(f))];
            let churn = format!("c{i}");
            if t.set(b"hot", &row).is_err()
                || t.set(churn.as_bytes(), &[(0, ValueRef::Int(i))]).is_err()
                || t.del(churn.as_bytes()) != Ok(true)
            {
                return 1;
            }
        }
        0
    });
    let (mut reads, mut seen_moving) = (0u64, 0u64);
    let mut last = -1;
    loop {
        let mut got = None;
        assert!(
            t.read_row_bytes(b"hot", |b| got = Some(b.to_vec())).unwrap(),
            "read {reads}: \"hot\" not found"
        );
        let b = got.expect("read_row_bytes gave the row");
        let (n, s, f) = match (t.value_in(&b, 0), t.value_in(&b, 1), t.value_in(&b, 2)) {
            (ValueRef::Int(n), ValueRef::Str(s), ValueRef::Float(f)) => (n, s.to_vec(), f),
            other => panic!("read {reads}: {other:?}"),
        };
        let want = row_of(n);
        assert_eq!((s.as_slice(), f), (want.1.as_bytes(), want.2), "read {reads}: a torn row for {n}");
        assert!(n >= last, "read {reads}: {n} after {last}");
        seen_moving += u64::from(n != last);
        last = n;
        assert!(t.exists(b"hot").unwrap(), "read {reads}: exists(\"hot\") false");
        reads += 1;
        if n == WRITES {
            break;
        }
        if reads % 4096 == 0 && exited(writer) {
            // A writer that failed ends early: read once more (its last row), then report.
            assert!(t.get_column(b"hot", 0).unwrap() == Some(Value::Int(WRITES)), "the writer failed");
        }
    }
    assert_eq!(wait(writer), (Some(0), None));
    // Reads overlapped writes throughout (not one read before the writer and one after).
    assert!(seen_moving > 100, "only {seen_moving} distinct rows seen in {reads} reads");
    assert_eq!(t.count(), 1);
    println!("ok: {reads} reads without the lock, {seen_moving} distinct rows, none torn or missing");
}

fn a_read_after_a_writer_died_mid_change_sees_the_row_rolled_back() {
    let t = Table::new(16, schema(), 16).unwrap();
    t.set(b"row", &[(0, ValueRef::Int(7)), (1, ValueRef::Str(b"intact"))]).unwrap();
    let crasher = fork(|| t.crash_while_writing(b"row", 1));
    assert_eq!(wait(crasher), (None, Some(libc::SIGKILL)));
    // The first access after the crash is a read: it must not take the half-written bytes.
    let started = Instant::now();
    assert_eq!(t.get_column(b"row", 1).unwrap(), Some(Value::Str(b"intact".to_vec())));
    assert!(started.elapsed() < Duration::from_secs(2), "the read waited {:?}", started.elapsed());
    assert_eq!(t.recoveries(), 1, "the read took the lock over and recovered");
    assert!(t.exists(b"row").unwrap());
    println!("ok: a read after a writer died mid-change recovered the row in {:?}", started.elapsed());
}

/// `clear()` leaves rows as they were and only forgets them; a process killed after taking
/// such a row for an insert, before writing it, must not bring the cleared row back — its
/// key may be live in another row by then (two rows of one key, and a process whose memo
/// knows the other row acts on it).
fn a_crash_in_an_insert_after_clear_does_not_bring_a_cleared_row_back() {
    let t = Table::new(8, schema(), 16).unwrap();
    t.set(b"a", &[(0, ValueRef::Int(1))]).unwrap(); // row 0
    t.set(b"k", &[(0, ValueRef::Int(2))]).unwrap(); // row 1
    t.clear();
    t.set(b"k", &[(0, ValueRef::Int(3))]).unwrap(); // row 0 now
    let crasher = fork(|| {
        Table::crash_in_next_insert();
        let _ = t.set(b"b", &[(0, ValueRef::Int(4))]); // takes row 1, dies before writing it
        0
    });
    assert_eq!(wait(crasher), (None, Some(libc::SIGKILL)));
    // The next access recovers (rebuilds the index from the rows below `next_unused`).
    assert_eq!(t.get_column(b"k", 0).unwrap(), Some(Value::Int(3)));
    assert_eq!(t.recoveries(), 1);
    let rows = t.rows();
    let keys: Vec<&[u8]> = rows.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(keys, vec![&b"k"[..]], "one row, k's");
    assert_eq!(t.count(), 1);
    assert!(t.del(b"k").unwrap());
    assert_eq!(t.get(b"k").unwrap(), None, "no second row of k left behind");
    println!("ok: a crash in an insert after clear() left one row of k");
}

fn capacity_is_exact_across_processes_with_colliding_keys() {
    const CAP: usize = 300;
    let t = Table::with_hash(CAP, schema(), 16, KeyHash::Fixed(|k| u64::from(k[0]) & 1)).unwrap();
    let t = &t;
    // Four processes race to insert 100 distinct keys each: exactly CAP succeed.
    let pids: Vec<_> = (0..4u8)
        .map(|p| {
            fork(move || {
                let mut ok = 0;
                for i in 0..100u32 {
                    let key = format!("{p}-{i}");
                    match t.set(key.as_bytes(), &[(0, ValueRef::Int(1))]) {
                        Ok(()) => ok += 1,
                        Err(TableError::Full { .. }) => {}
                        Err(_) => return 255,
                    }
                }
                ok
            })
        })
        .collect();
    let inserted: i32 = pids.into_iter().map(|p| wait(p).0.expect("child exited")).sum();
    assert_eq!(inserted as usize, CAP);
    assert_eq!(t.count(), CAP);
    assert_eq!(t.set(b"extra", &[]), Err(TableError::Full { capacity: CAP }));
    println!("ok: {CAP} of 400 colliding inserts from 4 processes, then Full");
}

fn main() {
    concurrent_increments_sum_exactly();
    reads_never_see_a_torn_row_or_miss_a_key_while_another_process_writes();
    a_process_killed_holding_the_lock_is_recovered();
    a_read_after_a_writer_died_mid_change_sees_the_row_rolled_back();
    a_process_killed_mid_insert_leaves_a_consistent_table();
    a_crash_in_an_insert_after_clear_does_not_bring_a_cleared_row_back();
    capacity_is_exact_across_processes_with_colliding_keys();
}
