//! The access log: one line per answered request, written by a thread of its own.
//!
//! Owns: the line formats (`common`, `combined`, `json`), the writer thread and its
//! bounded queue. A record of the request is queued, packed, where it was answered (a Tokio
//! thread); the writer thread formats and writes the lines. When the queue is full (the
//! disk or the pipe behind stderr does not keep up) the record is dropped and counted
//! (`via_access_log_dropped_total`), so a stalled log never stalls a connection or the PHP
//! thread.
//! Rotation: the file is opened in append mode; `copytruncate` rotation works as is.

use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{StatusCode, Version};

use super::trace::{hex_into, Trace};
use crate::http::answer::{itoa_buf, DIGIT_PAIRS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Common,
    Combined,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "common" => Some(Self::Common),
            "combined" => Some(Self::Combined),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// Where lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Stderr,
    File(std::path::PathBuf),
}

/// What a line says about a request that is known when it is admitted.
#[derive(Clone, Copy)]
pub struct Head<'a> {
    pub client: SocketAddr,
    pub method: &'a [u8],
    /// The request target (path and query).
    pub target: &'a [u8],
    pub version: Version,
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub sampled: bool,
    /// The client's `X-Request-Id` when it was taken (else the trace id is the request id).
    pub request_id: Option<&'a [u8]>,
}

impl<'a> Head<'a> {
    /// The trace fields of `t`.
    pub fn with_trace(self, t: &'a Trace) -> Self {
        Self {
            trace_id: t.trace_id,
            span_id: t.span_id,
            sampled: t.flags & 1 == 1,
            request_id: t.given_request_id.as_deref().map(str::as_bytes),
            ..self
        }
    }
}

/// What a line says about one request.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub head: Head<'a>,
    pub status: StatusCode,
    /// Body bytes, when known when the response started (not for a stream).
    pub bytes: Option<u64>,
    pub duration: Duration,
}

/// A request's head packed for its record when the request is admitted (the head part of
/// `Packed`): its answer then adds a few fixed fields and one copy, under the queue's lock.
/// It is packed where it stays, in the ticket's box, not on the stack and moved in after:
/// a head that fits (one without a long user agent or target) inline, a longer one on the
/// heap.
pub struct RecordHead {
    len: usize,
    inline: [u8; INLINE_HEAD],
    long: Vec<u8>,
}

/// The bytes of a head packed inline at most.
const INLINE_HEAD: usize = 256;

impl RecordHead {
    /// Nothing packed yet (see `fill`).
    pub const EMPTY: Self = Self { len: 0, inline: [0; INLINE_HEAD], long: Vec::new() };

    #[cfg(test)]
    pub fn new(h: &Head<'_>) -> Self {
        let mut r = Self::EMPTY;
        r.fill(h);
        r
    }

    /// Packs `h`, in place of what was packed before.
    pub fn fill(&mut self, h: &Head<'_>) {
        let (inline, mut at) = (&mut self.inline, 0);
        let fits = Packed::write_head(h, |piece| match inline.get_mut(at..at + piece.len()) {
            Some(to) => {
                to.copy_from_slice(piece);
                at += piece.len();
                true
            }
            None => false,
        });
        self.long.clear();
        if fits {
            self.len = at;
        } else {
            self.len = usize::MAX;
            self.long.extend_from_slice(&self.inline[..at]);
            let long = &mut self.long;
            Packed::write_head_from(h, at, |piece| long.extend_from_slice(piece));
        }
    }

    fn bytes(&self) -> &[u8] {
        self.inline.get(..self.len).unwrap_or(&self.long)
    }

    /// Frees the buffer of a head that did not fit inline, past a few KiB (a record head
    /// kept for reuse must not hold on to one client's 60 KiB user agent).
    pub fn forget_long(&mut self) {
        if self.long.capacity() > 4096 {
            self.long = Vec::new();
            self.len = 0;
        }
    }
}

/// Records waiting for the writer at most; past it they are dropped (counted).
pub const MAX_PENDING: usize = 64 << 10;
/// Bytes of queued records at most (their text included), likewise.
pub const MAX_PENDING_BYTES: usize = 16 << 20;
/// The writer writes at least this often while records wait...
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// ...and at once when this many wait.
const WAKE_AT: usize = 2048;

/// Queued records, packed one after the other into one buffer (`Packed`): a request's
/// record is about 70 bytes written in sequence, not a 260-byte struct and a separate text
/// buffer. The I/O thread writes memory the writer thread read last, so each cache line it
/// touches comes from the other core: fewer lines, fewer misses per request.
#[derive(Default)]
struct Pending {
    records: usize,
    bytes: Vec<u8>,
    stop: bool,
}

struct Shared {
    pending: parking_lot::Mutex<Pending>,
    wake: parking_lot::Condvar,
}

/// The log of one server. Records are queued under a short lock; the writer thread takes
/// them every `FLUSH_EVERY` (or at `WAKE_AT` records), formats them and writes them with one
/// call — no formatting, no allocation and no wake-up per request on the I/O thread.
pub struct AccessLog {
    shared: Arc<Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// What records' times count from (they carry nanoseconds since it): `mono_nanos`.
    base: u64,
    pub dropped: Arc<AtomicU64>,
    pub written: Arc<AtomicU64>,
}

impl AccessLog {
    /// Opens the target and starts the writer thread.
    pub fn start(target: &Target, format: Format) -> std::io::Result<Self> {
        let (out, piece): (Box<dyn Write + Send>, _) = match target {
            Target::Stderr => {
                let stderr = std::io::stderr();
                let piece = write_piece(&stderr);
                (Box::new(stderr), piece)
            }
            Target::File(path) => {
                let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
                let piece = write_piece(&file);
                (Box::new(file), piece)
            }
        };
        let shared = Arc::new(Shared { pending: Default::default(), wake: Default::default() });
        let written = Arc::new(AtomicU64::new(0));
        // Wall-clock time from the monotonic clock: one clock read per request, not two.
        let (base, base_time) = (super::mono_nanos(), SystemTime::now());
        let (s, w) = (Arc::clone(&shared), Arc::clone(&written));
        let writer = std::thread::Builder::new()
            .name("via-access-log".into())
            .spawn(move || write_lines(&s, format, Out { to: out, piece }, &w, since_epoch(base_time)))?;
        Ok(Self { shared, writer: Some(writer), base, dropped: Arc::new(AtomicU64::new(0)), written })
    }

    /// Queues the record of a request answered at `at` (`mono_nanos`), or counts it dropped.
    pub fn log(&self, head: &RecordHead, answer: Answer, at: u64) {
        let since = Duration::from_nanos(at.saturating_sub(self.base));
        let (fixed, n) = Packed::answer_part(answer, since);
        let head = head.bytes();
        let size = n + head.len();
        let mut p = self.shared.pending.lock();
        if p.records >= MAX_PENDING || p.bytes.len() + size > MAX_PENDING_BYTES {
            drop(p);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        p.bytes.extend_from_slice(&fixed[..n]);
        p.bytes.extend_from_slice(head);
        p.records += 1;
        let wake = p.records == WAKE_AT;
        drop(p);
        if wake {
            self.shared.wake.notify_one();
        }
    }
}

/// What a record says of the answer.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    pub status: StatusCode,
    /// Body bytes, when known when the response started (not for a stream).
    pub bytes: Option<u64>,
    pub duration: Duration,
}

impl Drop for AccessLog {
    /// Writes what is left, then ends the writer.
    fn drop(&mut self) {
        self.shared.pending.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// A record's packed form, little-endian. The answer's part: a flag (1), the status (2), the
/// time since the log's base and the duration in nanoseconds (8 + 8), the body size when
/// known (8). Then the head's part, packed when the request was admitted (`RecordHead`):
/// flags (1), version (1), port (2), the address (4 or 16), trace and span ids (16 + 8),
/// then the method, the target and whichever of referer, user agent and request id are
/// there, each as a 4-byte length and its bytes.
struct Packed;

/// The answer's flag.
const HAS_BYTES: u8 = 1;
/// The head's flags.
const V6: u8 = 1;
const HAS_REFERER: u8 = 1 << 1;
const HAS_USER_AGENT: u8 = 1 << 2;
const HAS_REQUEST_ID: u8 = 1 << 3;
const SAMPLED: u8 = 1 << 4;

/// The answer's part at most.
const ANSWER_PART: usize = 27;

impl Packed {
    /// The answer's part, and how many of its bytes are used.
    fn answer_part(a: Answer, since: Duration) -> ([u8; ANSWER_PART], usize) {
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let mut b = [0u8; ANSWER_PART];
        b[0] = if a.bytes.is_some() { HAS_BYTES } else { 0 };
        b[1..3].copy_from_slice(&a.status.as_u16().to_le_bytes());
        b[3..11].copy_from_slice(&nanos(since).to_le_bytes());
        b[11..19].copy_from_slice(&nanos(a.duration).to_le_bytes());
        match a.bytes {
            Some(n) => {
                b[19..27].copy_from_slice(&n.to_le_bytes());
                (b, 27)
            }
            None => (b, 19),
        }
    }

    /// Gives the pieces of the head's part of a record to `put` in order, until it
    /// returns false; true if it took them all.
    fn write_head(h: &Head<'_>, mut put: impl FnMut(&[u8]) -> bool) -> bool {
        let mut flags = 0;
        for (has, bit) in [
            (h.client.is_ipv6(), V6),
            (h.referer.is_some(), HAS_REFERER),
            (h.user_agent.is_some(), HAS_USER_AGENT),
            (h.request_id.is_some(), HAS_REQUEST_ID),
            (h.sampled, SAMPLED),
        ] {
            if has {
                flags |= bit;
            }
        }
        let (v4, v6);
        let ip: &[u8] = match h.client.ip() {
            std::net::IpAddr::V4(ip) => {
                v4 = ip.octets();
                &v4
            }
            std::net::IpAddr::V6(ip) => {
                v6 = ip.octets();
                &v6
            }
        };
        let fixed: [&[u8]; 5] =
            [&[flags, version_code(h.version)], &h.client.port().to_le_bytes(), ip, &h.trace_id, &h.span_id];
        if !fixed.iter().all(|piece| put(piece)) {
            return false;
        }
        [Some(h.method), Some(h.target), h.referer, h.user_agent, h.request_id]
            .into_iter()
            .flatten()
            .all(|v| put(&(v.len() as u32).to_le_bytes()) && put(v))
    }

    /// `write_head`'s pieces past the first `skip` bytes (those went into the inline buffer).
    fn write_head_from(h: &Head<'_>, mut skip: usize, mut put: impl FnMut(&[u8])) {
        Self::write_head(h, |piece| {
            let from = skip.min(piece.len());
            skip -= from;
            put(&piece[from..]);
            true
        });
    }

    /// The first record of `b` with the time since the base, and what follows it; `None`
    /// for bytes `log` did not write.
    fn take(b: &[u8]) -> Option<(Entry<'_>, Duration, &[u8])> {
        let mut r = Reader(b);
        let [answer_flags] = r.array()?;
        let status = StatusCode::from_u16(u16::from_le_bytes(r.array()?)).ok()?;
        let since = Duration::from_nanos(u64::from_le_bytes(r.array()?));
        let duration = Duration::from_nanos(u64::from_le_bytes(r.array()?));
        let bytes = if answer_flags & HAS_BYTES != 0 { Some(u64::from_le_bytes(r.array()?)) } else { None };
        let [flags, version] = r.array()?;
        let port = u16::from_le_bytes(r.array()?);
        let ip = if flags & V6 != 0 {
            std::net::IpAddr::from(r.array::<16>()?)
        } else {
            std::net::IpAddr::from(r.array::<4>()?)
        };
        let trace_id = r.array()?;
        let span_id = r.array()?;
        let method = r.text()?;
        let target = r.text()?;
        let mut optional = |bit: u8| if flags & bit != 0 { r.text().map(Some) } else { Some(None) };
        let referer = optional(HAS_REFERER)?;
        let user_agent = optional(HAS_USER_AGENT)?;
        let request_id = optional(HAS_REQUEST_ID)?;
        let head = Head {
            client: SocketAddr::new(ip, port),
            method,
            target,
            version: version_of(version),
            referer,
            user_agent,
            trace_id,
            span_id,
            sampled: flags & SAMPLED != 0,
            request_id,
        };
        Some((Entry { head, status, bytes, duration }, since, r.0))
    }
}

/// Reads a packed record from the front.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn text(&mut self) -> Option<&'a [u8]> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        let (v, rest) = (self.0.get(..n)?, &self.0[n..]);
        self.0 = rest;
        Some(v)
    }
}

fn version_code(v: Version) -> u8 {
    match v {
        Version::HTTP_09 => 0,
        Version::HTTP_10 => 1,
        Version::HTTP_2 => 3,
        Version::HTTP_3 => 4,
        _ => 2,
    }
}

fn version_of(code: u8) -> Version {
    match code {
        0 => Version::HTTP_09,
        1 => Version::HTTP_10,
        3 => Version::HTTP_2,
        4 => Version::HTTP_3,
        _ => Version::HTTP_11,
    }
}

/// Where the writer writes, and in pieces of how many bytes at most.
struct Out {
    to: Box<dyn Write + Send>,
    piece: usize,
}

/// The bytes one `write` may carry so that no other writer's bytes land inside them.
///
/// A regular file opened for appending takes each `write` whole at its end, whoever else
/// appends. A pipe or a socket (stderr under systemd, Docker or a shell's `|`) takes at
/// most `PIPE_BUF` bytes (4 KiB) in one piece, and a larger write can be split where
/// another writer's land: the other workers of `dispatch = "connection"`, which log to the
/// same stderr, or the application's own output. Batches are written there in pieces of
/// whole lines of at most `PIPE_BUF` bytes.
fn write_piece(fd: &impl std::os::fd::AsRawFd) -> usize {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fstat` fills the buffer for an open descriptor, or fails and leaves it.
    let regular = unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) } == 0
        // SAFETY: filled by the successful call.
        && unsafe { st.assume_init() }.st_mode & libc::S_IFMT == libc::S_IFREG;
    if regular {
        usize::MAX
    } else {
        libc::PIPE_BUF
    }
}

/// Writes whole lines in pieces of at most `piece` bytes, each ending at a line's end (a
/// line longer than `piece` goes alone): see `write_piece`.
fn write_whole_lines(out: &mut dyn Write, bytes: &[u8], piece: usize) -> std::io::Result<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        let end = if rest.len() <= piece {
            rest.len()
        } else {
            match rest[..piece].iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1),
            }
        };
        out.write_all(&rest[..end])?;
        rest = &rest[end..];
    }
    out.flush()
}

/// The writer: takes what waits, formats it, writes it (with one call to a file), until
/// told to stop.
fn write_lines(shared: &Shared, format: Format, mut out: Out, written: &AtomicU64, base_time: Duration) {
    // It wakes with a batch of work every few milliseconds: let the serving threads finish
    // their turn first (`cpu_policy`).
    crate::cpu_policy::batch("access log writer");
    let mut taken = Vec::new();
    let mut line = Line::default();
    let mut recent = Recent::default();
    loop {
        let (records, stop) = {
            let mut p = shared.pending.lock();
            if !p.stop && p.records < WAKE_AT {
                shared.wake.wait_for(&mut p, FLUSH_EVERY);
            }
            std::mem::swap(&mut p.bytes, &mut taken);
            (std::mem::take(&mut p.records), p.stop)
        };
        if records > 0 {
            line.bytes.clear();
            let mut rest = &taken[..];
            let mut lines = 0u64;
            while let Some((e, since, next)) = Packed::take(rest) {
                format_into(&mut line, &mut recent, format, &e, base_time.saturating_add(since));
                lines += 1;
                rest = next;
            }
            if lines as usize != records || !rest.is_empty() {
                crate::warn!("the access log's queue held {records} record(s) and {lines} could be read");
            }
            taken.clear();
            if taken.capacity() > 4 << 20 {
                taken.shrink_to(1 << 20);
            }
            if write_whole_lines(&mut *out.to, &line.bytes, out.piece).is_err() {
                // Nowhere to report it but the runtime's log (stderr, maybe the same pipe).
                crate::warn!("writing the access log failed; {lines} line(s) lost");
            } else {
                written.fetch_add(lines, Ordering::Relaxed);
            }
            if line.bytes.capacity() > 4 << 20 {
                line.bytes.shrink_to(1 << 20);
            }
        }
        if stop {
            return;
        }
    }
}

/// Lines being formatted: their bytes, pushed like a `String`'s but never checked again,
/// as every piece is ASCII or already valid UTF-8 (validation was a sixth of the writer's
/// time).
///
/// `begin` makes room for a whole line at once; `put` then writes without a capacity check
/// each, and short pieces without a call to `memcpy` (a JSON line is some
/// thirty pieces: `crate::buf`).
/// The room is `LINE_FIXED` for everything a line has but the five texts a client chose
/// (method, target, referer, user agent, request id), plus their lengths: a text goes in
/// by `put` only as it is (`plain_ascii`). One that needs escaping goes through the checked
/// `push_*`, and then `regain` makes the room again for the rest of the line.
#[derive(Default)]
pub struct Line {
    bytes: Vec<u8>,
    /// The room `begin` made, for `regain`.
    room: usize,
}

/// A line's bytes at most, the five texts a client chose aside. JSON has the most: 333,
/// with the longest address (an IPv6 one), numbers (20 digits) and ids
/// (`a_line_fits_its_room`).
const LINE_FIXED: usize = 512;

impl Line {
    /// Makes room for a line whose client-chosen texts are `variable` bytes long.
    fn begin(&mut self, variable: usize) {
        self.room = LINE_FIXED + variable;
        self.bytes.reserve(self.room);
    }

    /// Room again for the rest of a line, after checked pushes (escaping) took some of it.
    fn regain(&mut self) {
        self.bytes.reserve(self.room);
    }

    /// Appends `b` without a capacity check: only pieces `begin` made room for.
    #[inline(always)]
    fn put(&mut self, b: &[u8]) {
        // SAFETY: `begin` (or `regain`) made room for every piece put after it (see
        // `LINE_FIXED`).
        unsafe { crate::buf::put_unchecked(&mut self.bytes, b) }
    }

    fn push_str(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
    }

    fn push(&mut self, c: char) {
        if c.is_ascii() {
            self.bytes.push(c as u8);
        } else {
            self.push_str(c.encode_utf8(&mut [0; 4]));
        }
    }
}

impl std::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

fn version_text(v: Version) -> &'static [u8; 8] {
    match v {
        Version::HTTP_09 => b"HTTP/0.9",
        Version::HTTP_10 => b"HTTP/1.0",
        Version::HTTP_2 => b"HTTP/2.0",
        Version::HTTP_3 => b"HTTP/3.0",
        _ => b"HTTP/1.1",
    }
}

/// A value inside double quotes of a common/combined line: `"` and `\` and bytes outside
/// printable ASCII as `\xHH` (nginx's escaping), so no client can forge a line.
#[inline]
fn quoted(out: &mut Line, v: &[u8]) {
    match plain_ascii(v) {
        Some(plain) => out.put(plain),
        None => quoted_escaped(out, v),
    }
}

/// `quoted` for a value that needs escapes: apart, so that the plain case is not a call
/// that saves the registers the escaping needs.
#[cold]
#[inline(never)]
fn quoted_escaped(out: &mut Line, v: &[u8]) {
    for &b in v {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\x{b:02X}");
        } else {
            out.push(b as char);
        }
    }
    out.regain();
}

/// `n` (below 1000) as exactly three digits: a fraction's thousandths, a status.
#[inline]
fn three_digits(n: u64) -> [u8; 3] {
    let [a, b] = DIGIT_PAIRS[(n % 100) as usize];
    [b'0' + (n / 100 % 10) as u8, a, b]
}

#[inline]
fn put_3_digits(out: &mut Line, n: u64) {
    out.put(&three_digits(n));
}

#[inline]
fn put_u64(out: &mut Line, n: u64) {
    // ASCII digits: put as bytes, not checked as UTF-8 on the way.
    out.put(itoa_buf(n).as_slice());
}

/// Printable ASCII without `"` and `\`: the bytes can go into a quoted field as they are.
/// Eight bytes at a time (a browser's `User-Agent` is 100 bytes and more), the last eight
/// overlapping the words before; a text shorter than a word is tested as one word, its
/// bytes read as `crate::buf` copies short pieces and the rest filled with a plain byte.
fn plain_ascii(v: &[u8]) -> Option<&[u8]> {
    let n = v.len();
    let word = |at: usize| u64::from_le_bytes(v[at..at + 8].try_into().expect("8 bytes"));
    let plain = if n >= 8 {
        (0..n / 8).all(|i| plain_word(word(8 * i))) && plain_word(word(n - 8))
    } else {
        const FILL: u64 = u64::from_le_bytes(*b"aaaaaaaa");
        let x = if n >= 4 {
            let half = |at: usize| u64::from(u32::from_le_bytes(v[at..at + 4].try_into().expect("4 bytes")));
            half(0) | half(n - 4) << 32
        } else if n > 0 {
            let byte = |at: usize| u64::from(v[at]);
            byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16 | FILL << 24
        } else {
            FILL
        };
        plain_word(x)
    };
    plain.then_some(v)
}

/// Whether none of the eight bytes of `x` is below 0x20, 0x7f or above, `"` or `\`.
fn plain_word(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below n (n <= 0x80) leaves its high bit set in (y - n) & !y (and maybe bytes
    // after one); a zero byte of x ^ c is a byte equal to c. Each test is exact as to
    // whether any byte matches.
    let below = |y: u64, n: u64| y.wrapping_sub(ONES * n) & !y & HIGH;
    let equal = |c: u8| below(x ^ (ONES * u64::from(c)), 1);
    // 0x7f and above: adding 1 sets the high bit (a carry out of 0xff only follows a byte
    // that has it already).
    let high = (x.wrapping_add(ONES) | x) & HIGH;
    (below(x, 0x20) | high | equal(b'"') | equal(b'\\')) == 0
}

/// The bytes `plain_ascii` lets through, one by one (what the word test must agree with).
#[cfg(test)]
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    t
};

/// A JSON string of `v` (invalid UTF-8 replaced, as `String::from_utf8_lossy`).
#[inline]
fn json_str(out: &mut Line, v: &[u8]) {
    match plain_ascii(v) {
        Some(plain) => {
            out.put(b"\"");
            out.put(plain);
            out.put(b"\"");
        }
        None => json_str_escaped(out, v),
    }
}

/// `json_str` for a value that needs escapes (see `quoted_escaped`).
#[cold]
#[inline(never)]
fn json_str_escaped(out: &mut Line, v: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(v).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out.regain();
}

/// `10/Oct/2000:13:55:36 +0000`: a common or combined line's time.
const CLF_LEN: usize = 26;
/// `2000-10-10T13:55:36`: a JSON line's time, before its milliseconds.
const ISO_LEN: usize = 19;

/// What the writer keeps from line to line: the text of the last second and of the last
/// client's address. A busy server's lines mostly share their second, and come from few
/// addresses (a proxy, a load balancer, a client's connections).
#[derive(Default)]
pub struct Recent {
    second: Option<u64>,
    clf: [u8; CLF_LEN],
    iso: [u8; ISO_LEN],
    ip: Option<std::net::IpAddr>,
    ip_text: Line,
}

impl Recent {
    #[inline]
    fn push_ip(&mut self, out: &mut Line, ip: std::net::IpAddr) {
        if self.ip != Some(ip) {
            self.ip_text.bytes.clear();
            // Checked: an address is formatted into a line of its own.
            crate::http::push_ip(&mut self.ip_text.bytes, ip);
            self.ip = Some(ip);
        }
        out.put(&self.ip_text.bytes);
    }

    /// Appends the time: `10/Oct/2000:13:55:36 +0000` (`clf`), or RFC 3339 with milliseconds.
    #[inline]
    fn push_time(&mut self, out: &mut Line, d: Duration, clf: bool) {
        if self.second != Some(d.as_secs()) {
            (self.clf, self.iso) = format_second(d.as_secs());
            self.second = Some(d.as_secs());
        }
        if clf {
            out.put(&self.clf);
        } else {
            out.put(&self.iso);
            let [a, b, c] = three_digits(u64::from(d.subsec_millis()));
            out.put(&[b'.', a, b, c, b'Z']);
        }
    }
}

/// A second's two forms. Years past 9999 keep their last four digits.
fn format_second(secs: u64) -> ([u8; CLF_LEN], [u8; ISO_LEN]) {
    const MONTHS: [&[u8; 3]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let secs = secs as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = crate::log::civil_from_days(days);
    let digits = |n: i64, out: &mut [u8]| {
        let mut n = n.rem_euclid(10i64.pow(out.len() as u32));
        for d in out.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    let (mut clf, mut iso) = (*b"00/Jan/0000:00:00:00 +0000", *b"0000-00-00T00:00:00");
    let month = MONTHS[(m as usize).clamp(1, 12) - 1];
    digits(i64::from(day), &mut clf[0..2]);
    clf[3..6].copy_from_slice(month);
    digits(y, &mut clf[7..11]);
    digits(rem / 3600, &mut clf[12..14]);
    digits(rem % 3600 / 60, &mut clf[15..17]);
    digits(rem % 60, &mut clf[18..20]);
    digits(y, &mut iso[0..4]);
    digits(i64::from(m), &mut iso[5..7]);
    digits(i64::from(day), &mut iso[8..10]);
    iso[11..19].copy_from_slice(&clf[12..20]);
    (clf, iso)
}

#[cfg(test)]
pub fn format_line(format: Format, e: &Entry<'_>, now: SystemTime) -> String {
    let mut line = Line::default();
    format_into(&mut line, &mut Recent::default(), format, e, since_epoch(now));
    String::from_utf8(line.bytes).expect("lines are UTF-8")
}

/// The line of a record with this head, answered 200 with 13 bytes at the epoch.
#[cfg(test)]
pub fn format_record(head: &RecordHead, format: Format) -> String {
    let answer = Answer { status: StatusCode::OK, bytes: Some(13), duration: Duration::ZERO };
    let (fixed, n) = Packed::answer_part(answer, Duration::ZERO);
    let mut b = fixed[..n].to_vec();
    b.extend_from_slice(head.bytes());
    let (e, _, rest) = Packed::take(&b).expect("a whole record");
    assert!(rest.is_empty());
    format_line(format, &e, UNIX_EPOCH)
}

/// The time since the epoch (none for a clock set before it).
fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Appends one line (with its newline) to `s`; `now` is the answer's time since the epoch.
pub fn format_into(s: &mut Line, recent: &mut Recent, format: Format, e: &Entry<'_>, now: Duration) {
    let h = &e.head;
    let chosen = [Some(h.method), Some(h.target), h.referer, h.user_agent, h.request_id];
    s.begin(chosen.iter().flatten().map(|v| v.len()).sum());
    // In hex once per line: a line may hold the trace id twice.
    let mut trace_hex = [0u8; 32];
    hex_into(&mut trace_hex, &h.trace_id);
    let mut span_hex = [0u8; 16];
    hex_into(&mut span_hex, &h.span_id);
    let status = e.status.as_u16();
    if format == Format::Json {
        s.put(b"{\"time\":\"");
        recent.push_time(s, now, false);
        s.put(b"\",\"remote_addr\":\"");
        recent.push_ip(s, h.client.ip());
        s.put(b"\",\"method\":");
        json_str(s, h.method);
        s.put(b",\"uri\":");
        json_str(s, h.target);
        // Numbers through `put_u64`: the `fmt` machinery was most of the writer's own time.
        s.put(b",\"protocol\":\"");
        s.put(version_text(h.version));
        s.put(b"\",\"status\":");
        put_3_digits(s, u64::from(status));
        s.put(b",\"bytes\":");
        match e.bytes {
            Some(n) => put_u64(s, n),
            None => s.put(b"null"),
        }
        s.put(b",\"duration_ms\":");
        let micros = u64::try_from(e.duration.as_micros()).unwrap_or(u64::MAX);
        put_u64(s, micros / 1000);
        s.put(b".");
        put_3_digits(s, micros % 1000);
        for (key, value) in [(&b",\"referer\":"[..], h.referer), (b",\"user_agent\":", h.user_agent)] {
            s.put(key);
            match value {
                Some(v) => json_str(s, v),
                None => s.put(b"null"),
            }
        }
        s.put(b",\"request_id\":");
        match h.request_id {
            Some(id) => json_str(s, id),
            None => {
                s.put(b"\"");
                s.put(&trace_hex);
                s.put(b"\"");
            }
        }
        s.put(b",\"trace_id\":\"");
        s.put(&trace_hex);
        s.put(b"\",\"span_id\":\"");
        s.put(&span_hex);
        s.put(b"\"}\n");
        return;
    }
    recent.push_ip(s, h.client.ip());
    s.put(b" - - [");
    recent.push_time(s, now, true);
    s.put(b"] \"");
    quoted(s, h.method);
    s.put(b" ");
    quoted(s, h.target);
    s.put(b" ");
    s.put(version_text(h.version));
    s.put(b"\" ");
    put_3_digits(s, u64::from(status));
    s.put(b" ");
    match e.bytes {
        Some(n) if n > 0 => put_u64(s, n),
        _ => s.put(b"-"),
    }
    if format == Format::Combined {
        for value in [h.referer, h.user_agent] {
            s.put(b" \"");
            match value {
                Some(v) => quoted(s, v),
                None => s.put(b"-"),
            }
            s.put(b"\"");
        }
        s.put(b" \"");
        match h.request_id {
            Some(id) => quoted(s, id),
            None => s.put(&trace_hex),
        }
        s.put(b"\" \"00-");
        s.put(&trace_hex);
        s.put(b"-");
        s.put(&span_hex);
        s.put(if h.sampled { b"-01\"" } else { b"-00\"" });
    }
    s.put(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    /// Records each `write` it is given.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);
    impl Write for Writes {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.push(b.to_vec());
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A pipe's two ends (`std::io::pipe` needs a newer Rust than `rust-version`).
    fn pipe() -> (std::fs::File, std::fs::File) {
        use std::os::fd::FromRawFd;
        let mut fds = [0; 2];
        // SAFETY: `pipe` writes two new descriptors into the array on success.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: each descriptor is new and owned by one `File` from here on.
        unsafe { (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(fds[1])) }
    }

    #[test]
    fn lines_go_to_a_pipe_in_pieces_of_whole_lines() {
        let lines: Vec<Vec<u8>> =
            [10, 30, 25, 5, 70, 12].iter().map(|&n| [vec![b'x'; n - 1], vec![b'\n']].concat()).collect();
        let all = lines.concat();
        let mut w = Writes::default();
        write_whole_lines(&mut w, &all, 64).unwrap();
        let sizes: Vec<usize> = w.0.iter().map(Vec::len).collect();
        assert_eq!(sizes, [10 + 30, 25 + 5, 70, 12], "at most 64 bytes and whole lines; a longer line alone");
        assert_eq!(w.0.concat(), all);
        let mut w = Writes::default();
        write_whole_lines(&mut w, &all, usize::MAX).unwrap();
        assert_eq!(w.0, [all], "a file: one write");
        let file = tempfile::tempfile().unwrap();
        assert_eq!(write_piece(&file), usize::MAX);
        let (reader, writer) = pipe();
        assert_eq!((write_piece(&reader), write_piece(&writer)), (libc::PIPE_BUF, libc::PIPE_BUF));
    }

    /// Two writers of large batches to one pipe, as the workers of `dispatch = "connection"`
    /// share stderr: every line arrives whole. (Written whole, a batch is split by the pipe
    /// where the other writer's bytes land.)
    #[test]
    fn two_writers_on_one_pipe_keep_their_lines_whole() {
        const LINE: usize = 300;
        const BATCHES: usize = 400;
        const PER_BATCH: usize = 50;
        let (mut reader, writer) = pipe();
        let piece = write_piece(&writer);
        let writers: Vec<_> = [b'a', b'b']
            .into_iter()
            .map(|fill| {
                let mut w = writer.try_clone().unwrap();
                std::thread::spawn(move || {
                    let line = [vec![fill; LINE - 1], vec![b'\n']].concat();
                    let batch = line.repeat(PER_BATCH);
                    for _ in 0..BATCHES {
                        write_whole_lines(&mut w, &batch, piece).unwrap();
                    }
                })
            })
            .collect();
        drop(writer);
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut got).unwrap();
        writers.into_iter().for_each(|w| w.join().unwrap());
        let mut count = 0;
        for line in got.split_inclusive(|&b| b == b'\n') {
            assert_eq!(line.len(), LINE, "a line cut by the other writer");
            assert!(line[..LINE - 1].iter().all(|&b| b == line[0]), "two writers' bytes in one line");
            count += 1;
        }
        assert_eq!(count, 2 * BATCHES * PER_BATCH);
    }

    /// A plain `GET /` from `client`, with fixed ids.
    fn get_from(client: &str) -> Head<'static> {
        Head {
            client: client.parse().unwrap(),
            method: b"GET",
            target: b"/",
            version: Version::HTTP_11,
            referer: None,
            user_agent: None,
            trace_id: [7; 16],
            span_id: [9; 8],
            sampled: false,
            request_id: None,
        }
    }

    fn entry_line(format: Format, headers: &HeaderMap, uri: &str) -> String {
        let trace = Trace::from_headers(&headers.clone().into());
        let head = Head {
            target: uri.as_bytes(),
            referer: headers.get("referer").map(HeaderValue::as_bytes),
            user_agent: headers.get("user-agent").map(HeaderValue::as_bytes),
            ..get_from("203.0.113.9:5000")
        }
        .with_trace(&trace);
        let e =
            Entry { head, status: StatusCode::OK, bytes: Some(42), duration: Duration::from_micros(1500) };
        format_line(format, &e, UNIX_EPOCH + Duration::from_secs(971_186_136))
    }

    fn answer(e: &Entry<'_>) -> Answer {
        Answer { status: e.status, bytes: e.bytes, duration: e.duration }
    }

    /// The longest line of each format stays within the room `begin` makes for it: the
    /// longest address, numbers and protocol, each text plain (put as it is) or needing
    /// escapes all through (the checked path, then `regain`), one line after another into
    /// one buffer. (Debug builds also check every `put` against the room.)
    #[test]
    fn a_line_fits_its_room() {
        let plain = [b'a'; 300];
        let escaped = [b'"'; 300];
        let mut line = Line::default();
        for text in [&plain[..], &escaped[..], b"\xff\x01\\"] {
            for format in [Format::Common, Format::Combined, Format::Json] {
                let e = Entry {
                    head: Head {
                        client: "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535".parse().unwrap(),
                        method: text,
                        target: text,
                        version: Version::HTTP_09,
                        referer: Some(text),
                        user_agent: Some(text),
                        trace_id: [0xff; 16],
                        span_id: [0xff; 8],
                        sampled: true,
                        request_id: Some(text),
                    },
                    status: StatusCode::from_u16(999).unwrap(),
                    bytes: Some(u64::MAX),
                    duration: Duration::MAX,
                };
                let before = line.bytes.len();
                format_into(
                    &mut line,
                    &mut Recent::default(),
                    format,
                    &e,
                    Duration::from_secs(253_402_300_799),
                );
                if text == plain {
                    // Everything but the texts (two in a common line, five in the others).
                    let texts = if format == Format::Common { 2 } else { 5 };
                    let fixed = line.bytes.len() - before - texts * text.len();
                    assert!(fixed <= LINE_FIXED, "{format:?}: {fixed} bytes");
                }
                let text = std::str::from_utf8(&line.bytes[before..]).unwrap();
                assert!(text.ends_with('\n') && text.matches('\n').count() == 1, "{text}");
            }
        }
    }

    #[test]
    fn a_queued_entry_is_written_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let log = AccessLog::start(&Target::File(path.clone()), Format::Common).unwrap();
        let trace = Trace::from_headers(&crate::http::fields::Headers::default());
        let head = Head {
            client: "127.0.0.1:1".parse().unwrap(),
            method: b"POST",
            target: b"/a?b=\"c\"",
            version: Version::HTTP_2,
            referer: None,
            user_agent: Some(b"ua"),
            trace_id: [0; 16],
            span_id: [0; 8],
            sampled: false,
            request_id: None,
        }
        .with_trace(&trace);
        let record = RecordHead::new(&head);
        let answer = Answer { status: StatusCode::CREATED, bytes: None, duration: Duration::ZERO };
        for _ in 0..3 {
            log.log(&record, answer, crate::ops::mono_nanos());
        }
        drop(log); // writes what is queued
        let text = std::fs::read_to_string(&path).unwrap();
        let line = "\"POST /a?b=\\x22c\\x22 HTTP/2.0\" 201 -\n";
        assert_eq!(text.lines().count(), 3, "{text}");
        for l in text.split_inclusive('\n') {
            assert!(l.starts_with("127.0.0.1 - - [") && l.ends_with(line), "{l:?}");
        }
    }

    #[test]
    fn a_stalled_log_never_blocks_the_caller_and_counts_what_it_drops() {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("log.fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a plain syscall with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // A reader that reads nothing yet (opened first, or the writer's open would wait).
        let mut reader =
            std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
        let log = Arc::new(AccessLog::start(&Target::File(fifo), Format::Common).unwrap());
        let record = Arc::new(RecordHead::new(&get_from("127.0.0.1:1")));
        let answer = Answer { status: StatusCode::OK, bytes: Some(1), duration: Duration::ZERO };
        // More records than can ever be taken, while the pipe (64 KiB) is full after about a
        // thousand lines: the calls must all return, and the excess be counted. The writer
        // may take a whole queue (up to MAX_PENDING records, however late it wakes) and block
        // writing it while the queue fills again, so drops are certain only past two queues.
        const N: u64 = 2 * MAX_PENDING as u64 + 30_000;
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let (l, r) = (Arc::clone(&log), Arc::clone(&record));
        std::thread::spawn(move || {
            for _ in 0..N {
                l.log(&r, answer, crate::ops::mono_nanos());
            }
            done_tx.send(()).unwrap();
        });
        let finished = done_rx.recv_timeout(Duration::from_secs(30)).is_ok();
        let dropped = log.dropped.load(Ordering::Relaxed);
        // Now drain the pipe (reads that wait) to its end, when the writer closes it: every
        // record is either a line or counted as dropped.
        let fd = std::os::fd::AsRawFd::as_raw_fd(&reader);
        // SAFETY: plain fcntl calls on a descriptor `reader` owns.
        unsafe { libc::fcntl(fd, libc::F_SETFL, libc::fcntl(fd, libc::F_GETFL) & !libc::O_NONBLOCK) };
        let drain = std::thread::spawn(move || {
            let mut text = Vec::new();
            reader.read_to_end(&mut text).unwrap();
            text
        });
        // Its last owner writes what is queued and closes the pipe (asserting first would
        // leave the writer blocked on the full pipe, and the test hanging, not failing).
        drop(log);
        let text = drain.join().unwrap();
        assert!(finished, "log() blocked on a stalled writer");
        assert!(dropped > 0, "nothing was dropped");
        let lines = text.iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(lines + dropped, N, "{lines} lines written, {dropped} dropped");
    }

    /// What `AccessLog::log` queues for `e`.
    fn pack(out: &mut Vec<u8>, e: &Entry<'_>, since: Duration) -> usize {
        let (fixed, n) = Packed::answer_part(answer(e), since);
        let head = RecordHead::new(&e.head);
        out.extend_from_slice(&fixed[..n]);
        out.extend_from_slice(head.bytes());
        n + head.bytes().len()
    }

    #[test]
    fn packed_records_read_back_as_written() {
        let v4 = Entry {
            head: get_from("203.0.113.9:5000"),
            status: StatusCode::OK,
            bytes: Some(13),
            duration: Duration::from_nanos(1_234_567),
        };
        let long = vec![b'x'; 70_000];
        let v6 = Entry {
            head: Head {
                client: "[2001:db8::1]:443".parse().unwrap(),
                method: b"QUERY",
                target: &long,
                version: Version::HTTP_2,
                referer: Some(b"http://r/"),
                user_agent: Some(b""),
                trace_id: [1; 16],
                span_id: [2; 8],
                sampled: true,
                request_id: Some(b"req-1"),
            },
            status: StatusCode::from_u16(599).unwrap(),
            bytes: None,
            duration: Duration::ZERO,
        };
        let mut b = Vec::new();
        let first = pack(&mut b, &v4, Duration::from_secs(3));
        pack(&mut b, &v6, Duration::from_nanos(5));
        let (a, since_a, rest) = Packed::take(&b).unwrap();
        let (c, since_c, rest) = Packed::take(rest).unwrap();
        assert!(rest.is_empty());
        assert_eq!((since_a, since_c), (Duration::from_secs(3), Duration::from_nanos(5)));
        let line = |e: &Entry<'_>| format_line(Format::Json, e, UNIX_EPOCH);
        assert_eq!(line(&a), line(&v4));
        assert_eq!(line(&c), line(&v6));
        let combined = |e: &Entry<'_>| format_line(Format::Combined, e, UNIX_EPOCH);
        assert_eq!(combined(&c), combined(&v6));
        assert_eq!(
            (a.head.client, c.head.client, c.head.sampled, a.bytes, c.bytes),
            (v4.head.client, v6.head.client, true, Some(13), None)
        );
        // A cut record is not read (and nothing past it).
        for cut in [1, 10, 20, first - 1] {
            assert!(Packed::take(&b[..cut]).is_none(), "cut at {cut}");
        }
        // Heads packed in place and heads past the in-place array, on either side of its end.
        for n in 150..260 {
            let target = vec![b'/'; n];
            let e = Entry { head: Head { target: &target, ..v6.head }, ..v4 };
            let mut b = Vec::new();
            pack(&mut b, &e, Duration::ZERO);
            let (back, _, rest) = Packed::take(&b).unwrap();
            assert!(rest.is_empty());
            assert_eq!(line(&back), line(&e), "a target of {n} bytes");
        }
    }

    #[test]
    fn each_line_has_its_own_clients_address_and_second() {
        let mut e = Entry {
            head: get_from("10.0.0.1:1"),
            status: StatusCode::OK,
            bytes: None,
            duration: Duration::ZERO,
        };
        // One writer's lines: what it keeps of the last line must not leak into the next.
        let mut recent = Recent::default();
        let clients = ["10.0.0.1:1", "10.0.0.1:2", "[::1]:3", "10.0.0.2:4", "10.0.0.1:5"];
        for (i, client) in clients.into_iter().enumerate() {
            e.head.client = client.parse().unwrap();
            let at = UNIX_EPOCH + Duration::from_millis(999 * i as u64);
            let mut line = Line::default();
            format_into(&mut line, &mut recent, Format::Common, &e, since_epoch(at));
            let line = String::from_utf8(line.bytes).unwrap();
            let ip = e.head.client.ip().to_string();
            let second = format_second(at.duration_since(UNIX_EPOCH).unwrap().as_secs()).0;
            let want = format!("{ip} - - [{}] ", std::str::from_utf8(&second).unwrap());
            assert!(line.starts_with(&want), "{line}");
        }
    }

    /// The word test agrees with the byte table for every byte at every place, and on
    /// words of mixed bytes.
    #[test]
    fn a_word_is_plain_exactly_when_each_of_its_bytes_is() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut w = *b"abcdefgh";
                w[at] = b;
                assert_eq!(plain_word(u64::from_le_bytes(w)), PLAIN[usize::from(b)], "{b:#x} at {at}");
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bytes = x.to_le_bytes();
            assert_eq!(plain_word(x), bytes.iter().all(|&b| PLAIN[usize::from(b)]), "{bytes:?}");
        }
        for v in [&b""[..], b"GET", b"/a/b?c=d", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit", b"tab\there"]
        {
            assert_eq!(plain_ascii(v).is_some(), v.iter().all(|&b| PLAIN[usize::from(b)]), "{v:?}");
        }
        // Every length a text is read differently at (bytes, halves, words and an
        // overlapping last word), with one byte that is not plain at each place.
        for n in 0..40 {
            let mut v = b"abcdefghijklmnopqrstuvwxyz0123456789ABCD"[..n].to_vec();
            assert!(plain_ascii(&v).is_some(), "{n}");
            for at in 0..n {
                for bad in [b'"', b'\\', 0x1f, 0x7f, 0x80, 0xff] {
                    let keep = std::mem::replace(&mut v[at], bad);
                    assert!(plain_ascii(&v).is_none(), "{bad:#x} at {at} of {n}");
                    v[at] = keep;
                }
            }
        }
    }

    /// Numbers read as `format!` writes them, at every count of digits.
    #[test]
    fn numbers_are_written_as_format_writes_them() {
        let mut line = Line::default();
        let mut n = 1u64;
        let mut values = vec![0, u64::MAX, u64::MAX - 1];
        while let Some(m) = n.checked_mul(10) {
            values.extend([n - 1, n, n + 1, m / 2 + 3]);
            n = m;
        }
        for v in values {
            line.bytes.clear();
            line.begin(0);
            put_u64(&mut line, v);
            assert_eq!(line.bytes, v.to_string().as_bytes());
        }
        for v in 0..1000 {
            assert_eq!(three_digits(v), format!("{v:03}").as_bytes());
        }
    }

    /// A second's two forms, as `format!` would write them, across the calendar.
    #[test]
    fn a_second_formats_as_its_date_and_time() {
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        for secs in [0u64, 59, 971_186_136, 951_782_400, 1_709_251_199, 4_102_444_799, 253_402_300_799]
            .into_iter()
            .chain((0..2000).map(|i| i * 7_919_993))
        {
            let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
            let (y, m, d) = crate::log::civil_from_days(days);
            let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
            let (clf, iso) = format_second(secs);
            let want_clf =
                format!("{d:02}/{}/{y:04}:{hh:02}:{mm:02}:{ss:02} +0000", MONTHS[(m - 1) as usize]);
            assert_eq!(std::str::from_utf8(&clf).unwrap(), want_clf);
            assert_eq!(
                std::str::from_utf8(&iso).unwrap(),
                format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}")
            );
        }
    }

    #[test]
    fn common_and_combined() {
        let mut h = HeaderMap::new();
        h.insert("user-agent", "curl/8 \"x\"".parse().unwrap());
        h.insert("x-request-id", "req-1".parse().unwrap());
        let common = entry_line(Format::Common, &h, "/a?b=1");
        assert_eq!(common, "203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42\n");
        let combined = entry_line(Format::Combined, &h, "/a");
        assert!(
            combined.starts_with(
                "203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] \"GET /a HTTP/1.1\" 200 42 \"-\" \"curl/8 \\x22x\\x22\" \"req-1\" \"00-"
            ),
            "{combined}"
        );
    }

    #[test]
    fn json_lines_parse() {
        let mut h = HeaderMap::new();
        h.insert("referer", HeaderValue::from_bytes(b"http://x/\xff").unwrap());
        let line = entry_line(Format::Json, &h, "/j");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["status"], 200);
        assert_eq!(v["uri"], "/j");
        assert_eq!(v["duration_ms"], 1.5);
        assert_eq!(v["trace_id"].as_str().unwrap().len(), 32);
        assert!(v["referer"].as_str().unwrap().starts_with("http://x/"));
        assert_eq!(v["time"], "2000-10-10T13:55:36.000Z");
        assert_eq!(v["user_agent"], serde_json::Value::Null);
        let mut h = HeaderMap::new();
        h.insert("user-agent", HeaderValue::from_bytes(b"a\"b\\c\t\xff").unwrap());
        let v: serde_json::Value = serde_json::from_str(&entry_line(Format::Json, &h, "/q?x=1")).unwrap();
        assert_eq!(v["user_agent"], "a\"b\\c\t\u{fffd}");
    }
}
