//! HTTP/1.1 keep-alive connections served without hyper: the common requests, parsed,
//! handed to the application and answered here; anything unusual goes to hyper.
//!
//! Owns: the request loop of a plaintext HTTP/1.1 connection — reading a head within the
//! header and keep-alive timeouts, a `Content-Length` body within the body timeout, the
//! hand-over with the request timeout, the answer (a whole body in one vectored write, or
//! a chunked stream; a small one is written by whoever gives it, `in_place`), pipelining
//! and `Connection: close`.
//! Does not own: what a request means (`exchange::Dispatcher`), the framing rules
//! (`framing`, `answer`), event streams alone on their connection (`stream_conn`).
//!
//! Why: hyper's HTTP/1.1 path costs more per request than the request itself (its
//! connection state machine, its buffered encoder, a service future and a response body
//! per request; bench/RESULTS.md, issue 12). The requests a browser or an API client sends
//! — a method, an origin-form target, headers, no body or one with a length — are parsed
//! here with `httparse` (hyper's parser) and answered with one system call.
//!
//! The hand-off rule: a request this module is not sure about — another HTTP version, a
//! transfer coding, `Expect`, `Upgrade`, a length over the limit, too many or too large
//! headers, a multipart body, a static file, a head `httparse` refuses, a `Host` the rules
//! refuse — is left unread, and hyper takes the connection from that request on with the
//! bytes read so far replayed. hyper then answers it exactly as it would have (400, 413,
//! 431, 100-continue, chunked bodies, uploads). Hand-offs happen only at a request
//! boundary, so no request is served twice or half.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::{pin, Pin};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderValue, ACCEPT_ENCODING};
use http::{Method, StatusCode, Uri, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::answer::{encode_head, shape, Delimit, Outgoing, Shaped};
use super::body_memory::BodyMemory;
use super::exchange::{
    Answered, BodyRoom, IncomingRequest, ReplySlot, RequestBody, RequestHead, ResponseStart, SlotAnswer,
    Unanswered, REFUSED_BODY_LINGER,
};
use super::fields::{is_token, FieldSpans, Headers, Span};
use super::in_place::{encode_whole, Armed, InPlace, Written};
use super::race::{first, only_if, First};
use super::server::ConnectionSlot;
use super::service::ServerShared;
use super::stream_conn::{self, Input, Pumped, StreamRequest};
use super::timer::Timer;
use crate::ops::{Gate, Own, Ticket};
use crate::shutdown::Shutdown;

/// Headers parsed here at most; a request with more goes to hyper (which applies
/// `max_headers` and answers 431 past it).
const MAX_PARSED_HEADERS: usize = 64;

/// The read buffer's first size: a typical head and a small body.
const READ_BUF: usize = 4096;

/// Bytes of blank lines dropped at most while an answer is awaited (see `exchange`): past
/// them the bytes are kept for the next head and the close is no longer watched for.
const MAX_BLANK_BYTES: usize = 8;

/// Who serves the connection from here on.
pub enum Next {
    /// Nobody: it closed, timed out or the server is shutting down.
    Closed,
    /// hyper, from the request at the start of these bytes (read, not yet served).
    Hyper(TcpStream, Bytes),
    /// `stream_conn`: an event stream with nothing after it, the connection's last request.
    EventStream(TcpStream, Box<StreamRequest>),
}

/// What the bytes at the start of the buffer are.
enum Parse {
    /// Not a whole head yet.
    Partial,
    /// hyper's to serve (the buffer is as it was).
    Hyper,
    /// An event-stream GET with nothing after it (its head was taken from the buffer).
    EventStream(Box<StreamRequest>),
    /// A request this module serves (its head was taken from the buffer; its body of
    /// `body_len` bytes follows).
    Request(Parsed),
}

/// A request read by this module, boxed once as it is dispatched: its body, and what ops
/// say of its client, are filled in where it lies. (Built on the stack and moved, a
/// request's head was copied five times on its way to the box: ~400 instructions.)
struct Parsed {
    req: Box<IncomingRequest>,
    /// Its number in the connection's `ReplySlot`, where its answer arrives.
    answer: u64,
    body_len: usize,
    /// The client asked to close after this request.
    close: bool,
}

/// Where `part` (a slice of the head starting at `base`) lies in it.
fn span(part: &[u8], base: *const u8) -> Span {
    // Heads this module takes are at most `u16::MAX` bytes (`parse`).
    Span { at: (part.as_ptr() as usize - base as usize) as u16, len: part.len() as u16 }
}

/// A head's bytes in one allocation with their reference count (`Bytes::from_owner`): a
/// `Bytes` made from a `Vec` allocates its count again at the first slice, and a request's
/// head is sliced for its target and values. Heads over 1 KiB are copied exactly.
fn head_bytes(head: &[u8]) -> Bytes {
    /// The first `len` bytes are the head's; the rest is never read (nor zeroed first: the
    /// owner is moved into its allocation whole, so every byte of it is copied once more).
    struct Inline<const N: usize> {
        len: usize,
        bytes: [MaybeUninit<u8>; N],
    }
    impl<const N: usize> AsRef<[u8]> for Inline<N> {
        fn as_ref(&self) -> &[u8] {
            // SAFETY: the first `len` bytes were written from the head (`inline`).
            unsafe { std::slice::from_raw_parts(self.bytes.as_ptr().cast(), self.len) }
        }
    }
    fn inline<const N: usize>(head: &[u8]) -> Bytes {
        let mut owner = Inline { len: head.len(), bytes: [MaybeUninit::uninit(); N] };
        // SAFETY: `head` fits (the caller's tiers) and does not overlap the new owner.
        unsafe { std::ptr::copy_nonoverlapping(head.as_ptr(), owner.bytes.as_mut_ptr().cast(), head.len()) };
        Bytes::from_owner(owner)
    }
    // In tiers, so that a short head (a client's usual few fields) moves few bytes.
    match head.len() {
        0..=96 => inline::<96>(head),
        97..=256 => inline::<256>(head),
        257..=1024 => inline::<1024>(head),
        _ => Bytes::copy_from_slice(head),
    }
}

/// The fields of the last head a connection kept, and what they said: of the heads it
/// parsed into requests, the last one with a plain request line, no wish for an event
/// stream and at most `LAST_FIELDS_MAX` bytes of fields (others leave the kept one as is)
/// — every such head while they repeat, only now and then on a connection whose heads
/// keep changing (`KEEP_ALWAYS`, `KEEP_EVERY`).
///
/// A client sends the same fields with each of its requests (host, agent, cookies, often
/// the length of its body); mostly only the request line changes, if anything. A head whose
/// request line has the plainest form (`plain_request_line`) and whose fields are byte for
/// byte these is taken without parsing or checking them again: what they said — the body's
/// length, `Connection: close`, that the rules let this module serve it — and where each
/// field lies are the same. (Workerman caches whole heads by their bytes, to the same end.)
///
/// Invariant: `block` is empty, or it is what followed the request line of a head that
/// `parse` took as a `Request` whose fields did not ask for an event stream, with `fields`
/// counted from its start, `body_len` and `close` as that head gave them.
#[derive(Default)]
struct LastFields {
    /// From the first field's name to the end of the blank line; empty while there is none.
    block: Vec<u8>,
    fields: FieldSpans,
    body_len: u64,
    close: bool,
    /// Heads in a row that `parse` took whole, none of them a repeat of the kept fields.
    parsed_in_a_row: u32,
}

/// Fields blocks longer than this are not kept (a connection holds at most this much).
const LAST_FIELDS_MAX: usize = 1024;

/// After this many heads in a row that did not repeat the kept fields (a proxy's
/// connection carrying many clients' requests, a client whose cookies or lengths change
/// each time), fields are kept only every `KEEP_EVERY`th head: the copy (~500
/// instructions) was paid for a repeat that did not come.
const KEEP_ALWAYS: u32 = 2;
const KEEP_EVERY: u32 = 16;

impl LastFields {
    /// Keeps the fields of `head`, a head just taken as a request (see the invariant), whose
    /// fields lie at `fields` (counted from the head's start).
    fn keep(&mut self, head: &[u8], fields: &FieldSpans, body_len: u64, close: bool) {
        // Only after a plain request line, the only kind `reuse` takes: there the fields
        // start right after it (httparse also skips blank lines before a request line, and
        // takes bare line feeds).
        let Some((_, _, line)) = plain_request_line(head) else { return };
        if head.len() - line > LAST_FIELDS_MAX {
            return;
        }
        self.parsed_in_a_row = self.parsed_in_a_row.wrapping_add(1);
        if self.parsed_in_a_row > KEEP_ALWAYS && self.parsed_in_a_row % KEEP_EVERY != 0 {
            return; // the fields kept before stay
        }
        self.block.clear();
        self.block.extend_from_slice(&head[line..]);
        let by = -(line as i32);
        self.fields = fields.iter().map(|&(n, v)| (n.moved(by), v.moved(by))).collect();
        (self.body_len, self.close) = (body_len, close);
    }

    /// The request at the start of `buf` when its request line is plain and its fields are
    /// the kept ones; `None` sends the head through the whole of `parse`, which decides.
    fn reuse(
        &mut self,
        buf: &mut BytesMut,
        shared: &ServerShared,
        addrs: (SocketAddr, SocketAddr),
        slot: &Arc<ReplySlot>,
    ) -> Option<Parsed> {
        if self.block.is_empty() {
            return None;
        }
        let (method_len, target, line) = plain_request_line(buf)?;
        let head_len = line + self.block.len();
        if buf.get(line..head_len)? != self.block.as_slice() {
            return None;
        }
        // The kept head passed every check that depends on its fields alone; what depends
        // on the request line (its length included) is checked again.
        let limits = &shared.config.limits;
        if head_len > limits.max_header_size || head_len > usize::from(u16::MAX) {
            return None;
        }
        let method = Method::from_bytes(&buf[..method_len]).ok()?;
        if method == Method::CONNECT
            || shared
                .static_files
                .as_ref()
                .is_some_and(|f| buf[target.clone()].starts_with(f.prefix().as_bytes()))
        {
            return None;
        }
        let head = head_bytes(&buf[..head_len]);
        let uri = Uri::from_maybe_shared(head.slice(target)).ok()?;
        let by = line as i32;
        let fields = self.fields.iter().map(|&(n, v)| (n.moved(by), v.moved(by))).collect();
        buf.advance(head_len);
        let headers = Headers::from_head(head, fields);
        self.parsed_in_a_row = 0;
        Some(request(shared, addrs, slot, (method, uri, headers), self.body_len, self.close))
    }
}

/// `METHOD SP /target SP HTTP/1.1 CRLF` at the start of `buf`, with a token for the method
/// and only visible ASCII in the target: the method's length, the target's place and the
/// line's length. Anything else (leading blank lines, bare line feeds, other versions,
/// bytes over 0x7e) is `None`, and `parse` decides from the whole head as before.
fn plain_request_line(buf: &[u8]) -> Option<(usize, std::ops::Range<usize>, usize)> {
    const VERSION: &[u8] = b" HTTP/1.1\r\n";
    let method = buf.iter().position(|&b| !is_token(b))?;
    if method == 0 || buf[method] != b' ' || buf.get(method + 1) != Some(&b'/') {
        return None;
    }
    let from = method + 1;
    let to = from + buf[from..].iter().position(|&b| !(b'!'..=b'~').contains(&b))?;
    if buf.get(to..to + VERSION.len())? != VERSION {
        return None;
    }
    Some((method, from..to, to + VERSION.len()))
}

/// A request's box, once its head is taken from the buffer.
fn request(
    shared: &ServerShared,
    (remote, local): (SocketAddr, SocketAddr),
    slot: &Arc<ReplySlot>,
    parts: (Method, Uri, Headers),
    body_len: u64,
    close: bool,
) -> Parsed {
    let (reply, answer) = slot.next();
    // Written into its box: built on the stack, its ~600 bytes would be copied in.
    let mut req = Box::new_uninit();
    req.write(IncomingRequest {
        head: RequestHead::http11(&shared.next_request_id, parts, remote, local),
        body: RequestBody::Empty,
        body_room: BodyRoom::default(),
        reply,
    });
    // SAFETY: written just above.
    let req = unsafe { req.assume_init() };
    Parsed { req, answer, body_len: body_len as usize, close }
}

/// A decimal `Content-Length` value (digits only, as RFC 9110 §8.6 writes it).
fn content_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// Looks at the bytes at the start of `buf`, read on a connection between `addrs` (the
/// client's, then the server's). With `serve` false only an event stream is taken (the
/// connection then belongs to hyper for everything else). `last`: the connection's fields
/// of its last request, used and kept here.
fn parse(
    buf: &mut BytesMut,
    shared: &ServerShared,
    serve: bool,
    addrs: (SocketAddr, SocketAddr),
    slot: &Arc<ReplySlot>,
    last: &mut LastFields,
) -> Parse {
    if serve {
        if let Some(parsed) = last.reuse(buf, shared, addrs, slot) {
            return Parse::Request(parsed);
        }
    }
    let limits = &shared.config.limits;
    // Left uninitialised: httparse writes the headers it finds (no 2 KiB cleared per request).
    let mut raw = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_PARSED_HEADERS];
    let max = limits.max_headers.clamp(1, MAX_PARSED_HEADERS);
    let mut req = httparse::Request::new(&mut []);
    let head_len = match req.parse_with_uninit_headers(buf, &mut raw[..max]) {
        // Longer heads than `u16::MAX` (a `max_header_size` raised past 64 KiB) go to hyper:
        // `Headers` keeps its spans in 16 bits.
        Ok(httparse::Status::Complete(n)) if n <= limits.max_header_size && n <= usize::from(u16::MAX) => n,
        Ok(httparse::Status::Partial) if buf.len() < limits.max_header_size => return Parse::Partial,
        _ => return Parse::Hyper,
    };
    let (Some(1), Some(method), Some(path)) = (req.version, req.method, req.path) else {
        return Parse::Hyper;
    };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else { return Parse::Hyper };
    if method == Method::CONNECT || !path.starts_with('/') {
        return Parse::Hyper;
    }
    if shared.static_files.as_ref().is_some_and(|f| path.starts_with(f.prefix())) {
        return Parse::Hyper;
    }
    let base = buf.as_ptr();
    let path = span(path.as_bytes(), base);
    let (mut body_len, mut has_length, mut close) = (0u64, false, false);
    let (mut wants_stream, mut multipart) = (false, false);
    let (mut host, mut hosts) = (None, 0);
    for h in req.headers.iter() {
        let (name, value) = (h.name.as_bytes(), h.value);
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("host") {
            host = host.or(Some(value));
            hosts += 1;
        } else if is("content-length") {
            match content_length(value) {
                Some(n) if !has_length && n <= limits.max_body_size => (body_len, has_length) = (n, true),
                _ => return Parse::Hyper, // repeated, malformed or too large: hyper's 400 or 413
            }
        } else if is("transfer-encoding") || is("upgrade") || is("expect") {
            return Parse::Hyper;
        } else if is("connection") {
            for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if !(token.is_empty() || token.eq_ignore_ascii_case(b"keep-alive")) {
                    return Parse::Hyper;
                }
            }
        } else if is("accept") {
            wants_stream |= contains_ignore_case(value, b"text/event-stream");
        } else if is("content-type") {
            multipart |= value.len() >= 19 && value[..19].eq_ignore_ascii_case(b"multipart/form-data");
        }
    }
    let event_stream = wants_stream && method == Method::GET && body_len == 0 && head_len == buf.len();
    if (multipart && body_len > 0) || !(serve || event_stream) {
        return Parse::Hyper;
    }
    if super::head_checks::check_hosts(Version::HTTP_11, host, hosts > 1).is_err() {
        return Parse::Hyper; // hyper answers it (400) from the same bytes
    }
    // A copy of the head: the request's values must not keep the read buffer alive (an
    // event stream lives for hours; its head would hold 4 KiB). Exactly its size for a
    // stream; for a request, with its reference count in the same allocation.
    let head =
        if event_stream { Bytes::copy_from_slice(&buf[..head_len]) } else { head_bytes(&buf[..head_len]) };
    let Ok(uri) = Uri::from_maybe_shared(head.slice(path.range())) else {
        return Parse::Hyper; // refused after all: hyper answers it from the same bytes
    };
    let fields: FieldSpans =
        req.headers.iter().map(|h| (span(h.name.as_bytes(), base), span(h.value, base))).collect();
    if !wants_stream {
        // (A head that asked for a stream is a stream or not by what follows it.)
        last.keep(&buf[..head_len], &fields, body_len, close);
    }
    buf.advance(head_len);
    let headers = Headers::from_head(head, fields);
    if event_stream {
        return Parse::EventStream(Box::new(StreamRequest::new(method, uri, headers)));
    }
    Parse::Request(request(shared, addrs, slot, (method, uri, headers), body_len, close))
}

/// Where a connection waiting for an answer stands with writing it in place (`in_place`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not for this answer: the task writes it.
    Off,
    /// It may be, once the socket is registered for readability with nothing to read.
    May,
    /// The slot is armed.
    Armed,
}

/// The client closed its connection while its answer was awaited: nobody waits for the
/// answer any more, and the connection, with its place under `max_connections`, goes. The
/// handler goes on (what it gives finds nobody), holding `place` and its count in flight
/// until it answers, or until `until` (the request timeout, at which the connection would
/// have answered 504 and gone).
fn client_left(
    (stats, slot, n): (&Arc<super::stats::Stats>, &Arc<ReplySlot>, u64),
    mut rx: SlotAnswer<'_>,
    in_flight: InFlight<'_>,
    place: Box<dyn Send>,
    until: Option<Instant>,
) -> Option<bool> {
    std::mem::forget(in_flight);
    // The request timeout's timer goes with what it would let go of: a handler that
    // answers at once leaves no sleeping task behind (clients leaving a fast route would
    // pile up one a request until the timeout).
    let timer = until.map(|until| {
        let slot = Arc::downgrade(slot);
        AbortOnDrop(tokio::spawn(async move {
            tokio::time::sleep_until(until).await;
            if let Some(slot) = slot.upgrade() {
                slot.let_go(n);
            }
        }))
    });
    match rx.leave((place, Running(Arc::clone(stats)), timer)) {
        Ok(()) => {}
        // The answer came meanwhile.
        Err((outcome, (_, running, _))) => match outcome {
            Ok(Answered::Written(_)) => std::mem::forget(running), // the writer counted it out
            Ok(Answered::Start(start)) => start.discard(),
            Err(Unanswered) => {}
        },
    }
    stats.client_aborts.fetch_add(1, Ordering::Relaxed);
    None
}

/// Empties `buf` if it holds only line ends (blank lines before a next request line), at
/// most `room` bytes of them all told; whether it did.
fn drop_blank(buf: &mut BytesMut, room: &mut usize) -> bool {
    let blank = buf.len() <= *room && buf.iter().all(|&b| b == b'\r' || b == b'\n');
    if blank {
        *room -= buf.len();
        buf.clear();
    }
    blank
}

/// A task cancelled when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A request counted in flight while its handler runs for a client that left.
struct Running(Arc<super::stats::Stats>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What waiting for the answer gave.
enum Waited<T> {
    Answer(T),
    /// The client closed its connection (or it broke).
    Gone,
}

/// What waiting for bytes gave.
enum Got {
    Bytes,
    /// The client closed, the connection broke, or the server is shutting down.
    Gone,
    TimedOut,
}

struct Conn<'s> {
    io: TcpStream,
    buf: BytesMut,
    /// The head of the answer being written (kept: one allocation per connection).
    out: Vec<u8>,
    timer: Timer,
    shutdown: Shutdown,
    /// The shutdown, registered with once per connection (`Shutdown::stopped`).
    stopping: crate::shutdown::Stopped,
    shared: &'s Arc<ServerShared>,
    remote: SocketAddr,
    local: SocketAddr,
    /// The request being answered, for `ops::Ops::answered` (when `ops` is active).
    ticket: Option<Box<Ticket>>,
    /// The request being answered is a HEAD: the runtime's own answers carry no body.
    head_request: bool,
    /// Where the answers of the connection's requests arrive.
    slot: Arc<ReplySlot>,
    /// The fields of its last request (`LastFields`).
    last: LastFields,
    /// Its answers may be written where they are given (`in_place`): it serves requests.
    in_place: bool,
    /// When the last answer was written in place, if the keep-alive wait starts there.
    idle_from: Option<Instant>,
    /// What the connection holds while open (`ConnectionSlot::leave`).
    conn: &'s mut ConnectionSlot,
}

/// Serves `io` (whose first bytes, already read, are `prefix`) until it closes or another
/// path takes it. With `requests` false (`hyper_http1`) only an event stream alone on its
/// connection is taken; hyper gets the connection at the first other request.
pub(super) async fn serve(
    io: TcpStream,
    prefix: Bytes,
    addrs: (SocketAddr, SocketAddr),
    shared: &Arc<ServerShared>,
    shutdown: Shutdown,
    requests: bool,
    conn: &mut ConnectionSlot,
) -> Next {
    let mut buf = BytesMut::with_capacity(READ_BUF.max(prefix.len()));
    buf.extend_from_slice(&prefix);
    Conn::new(io, buf, shared, shutdown, addrs, requests, conn).run(requests).await
}

impl<'s> Conn<'s> {
    fn new(
        io: TcpStream,
        buf: BytesMut,
        shared: &'s Arc<ServerShared>,
        shutdown: Shutdown,
        (remote, local): (SocketAddr, SocketAddr),
        requests: bool,
        conn: &'s mut ConnectionSlot,
    ) -> Self {
        let stopping = shutdown.stopped();
        let slot = if requests {
            ReplySlot::with_writer(InPlace::new(io.as_raw_fd(), Arc::clone(shared), shutdown.clone()))
        } else {
            ReplySlot::new()
        };
        Self {
            io,
            buf,
            out: Vec::new(),
            timer: Timer::default(),
            shutdown,
            stopping,
            shared,
            remote,
            local,
            ticket: None,
            head_request: false,
            slot,
            last: LastFields::default(),
            in_place: requests,
            idle_from: None,
            conn,
        }
    }

    async fn run(mut self, requests: bool) -> Next {
        let shared = self.shared;
        let limits = &shared.config.limits;
        // A new connection must start its request within the header timeout (as under
        // hyper, and over h2c: `conn::Activity`).
        let mut first = true;
        loop {
            // A head: within the keep-alive timeout for its first byte on a kept-alive
            // connection, then within the header timeout for the rest. The clock is read
            // when a read has to wait, not per request: most heads come whole in the bytes
            // of one read, and then neither time is needed. (A wait's start is then the
            // first moment found waiting — microseconds after the answer or the first byte.)
            let mut head_started = first || !self.buf.is_empty();
            let mut head_since = first.then(Instant::now);
            let mut idle_since = self.idle_from.take();
            first = false;
            let req = loop {
                // An empty buffer (the usual state after an answer) is a partial head: read.
                if !self.buf.is_empty() {
                    let addrs = (self.remote, self.local);
                    match parse(&mut self.buf, shared, requests, addrs, &self.slot, &mut self.last) {
                        Parse::Request(req) => break req,
                        Parse::EventStream(req) => return Next::EventStream(self.io, req),
                        Parse::Hyper => return Next::Hyper(self.io, self.buf.freeze()),
                        Parse::Partial => {}
                    }
                }
                let deadline = || {
                    if head_started {
                        *head_since.get_or_insert_with(Instant::now) + limits.header_timeout
                    } else {
                        *idle_since.get_or_insert_with(Instant::now) + limits.keepalive_timeout
                    }
                };
                let idle = self.buf.is_empty();
                if self.buf.capacity() - self.buf.len() < 1024 {
                    self.buf.reserve(READ_BUF);
                }
                match self.read(deadline, idle).await {
                    Got::Bytes => head_started = true,
                    Got::Gone => return Next::Closed,
                    Got::TimedOut => {
                        let counter = if head_started {
                            &shared.stats.header_timeouts
                        } else {
                            &shared.stats.idle_timeouts
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                        return Next::Closed;
                    }
                }
            };
            let close = match self.exchange(req).await {
                Some(close) => close,
                None => return Next::Closed,
            };
            if close || self.shutdown_fired() {
                let _ = self.io.shutdown().await;
                return Next::Closed;
            }
        }
    }

    fn shutdown_fired(&self) -> bool {
        self.shutdown.fired()
    }

    /// Reads more into the buffer's spare capacity (the caller makes some), until
    /// `deadline`; `idle`: nothing of a request was read yet, so a shutdown closes the
    /// connection.
    async fn read(&mut self, deadline: impl FnOnce() -> Instant, idle: bool) -> Got {
        let read = pin!(self.io.read_buf(&mut self.buf));
        let timer = pin!(self.timer.until(deadline));
        let stopping = pin!(only_if(idle, Pin::new(&mut self.stopping)));
        let got = first(read, pin!(first(timer, stopping))).await;
        match got {
            First::Left(Ok(0) | Err(_)) | First::Right(First::Right(())) => Got::Gone,
            First::Left(Ok(_)) => Got::Bytes,
            First::Right(First::Left(())) => Got::TimedOut,
        }
    }

    /// Serves one request whose head was parsed: its body, the application, the answer.
    /// `Some(close)`: answered, and whether the connection closes now; `None`: it is gone.
    async fn exchange(&mut self, parsed: Parsed) -> Option<bool> {
        let shared = self.shared;
        let stats = &shared.stats;
        let limits = &shared.config.limits;
        let Parsed { mut req, answer, body_len, close } = parsed;
        let is_head = req.head.method == Method::HEAD;
        self.head_request = is_head;
        if body_len > 0 {
            let mut deadline = None;
            let mut memory = BodyMemory::new(&shared.stats, limits.body_memory());
            loop {
                // Room, from all bodies' room, for the buffer the body is read into (its
                // capacity), grown as the bytes come, not by what the head claims.
                let whole = self.buf.len() >= body_len;
                let fits = if whole {
                    memory.hold(self.buf.capacity() as u64)
                } else {
                    let more = (body_len - self.buf.len()).min(64 * 1024);
                    memory.grow(&mut self.buf, more, body_len)
                };
                if !fits {
                    crate::debug!("request from {}: refused, bodies fill max_body_memory", self.remote);
                    drop(memory); // its room is for others while the rest is read and dropped
                    if self.plain(StatusCode::SERVICE_UNAVAILABLE, true).await {
                        self.linger(body_len - self.buf.len().min(body_len)).await;
                    }
                    return None;
                }
                if whole {
                    break;
                }
                let body_deadline = || *deadline.get_or_insert_with(|| Instant::now() + limits.body_timeout);
                match self.read(body_deadline, false).await {
                    Got::Bytes => {}
                    Got::Gone => return None,
                    Got::TimedOut => {
                        stats.body_timeouts.fetch_add(1, Ordering::Relaxed);
                        self.plain(StatusCode::REQUEST_TIMEOUT, true).await;
                        return None;
                    }
                }
            }
            req.body = RequestBody::Bytes(self.buf.split_to(body_len).freeze());
            req.body_room = memory.into_room();
        }
        stats.requests.fetch_add(1, Ordering::Relaxed);
        if shared.ops.active() {
            let head = &req.head;
            match shared.ops.admit(
                shared,
                (&head.method, &head.uri, Version::HTTP_11, &head.headers),
                self.remote,
            ) {
                Gate::Answer(own) => return self.own(own, close).await.then_some(close),
                Gate::Pass(t) => {
                    if let Some(t) = &t {
                        req.head.remote = t.client;
                        req.head.trace = t.trace();
                    }
                    self.ticket = t;
                }
            }
        }
        let accept_encoding = req.head.headers.first(&ACCEPT_ENCODING);
        if shared.dispatcher.dispatch(req).is_err() {
            self.plain(StatusCode::SERVICE_UNAVAILABLE, true).await;
            return None;
        }
        stats.in_flight.fetch_add(1, Ordering::Relaxed);
        let in_flight = InFlight(stats);
        let mut rx = self.slot.answer(answer);
        let mut own = Some(Armed { is_head, accept_encoding, ticket: self.ticket.take() });
        // A blank line read after the request (with it, or before the answer) is dropped,
        // and the close is watched for as if nothing had come: see the read below.
        let mut blank_room = MAX_BLANK_BYTES;
        let mut watch = drop_blank(&mut self.buf, &mut blank_room);
        // The answer may be written where it is given (`in_place`) while nothing of a next
        // request was read (its bytes would wake nobody) and the connection stays open.
        let mut phase = if self.in_place && !close && self.buf.is_empty() { Phase::May } else { Phase::Off };
        // One clock reading: the request timeout, and while armed the keep-alive timeout (a
        // task whose answer was written in place sleeps until its client's next bytes).
        let now = (limits.request_timeout.is_some() || phase == Phase::May).then(Instant::now);
        let request_deadline = limits.request_timeout.zip(now).map(|(t, now)| now + t);
        let mut idle_deadline = now.filter(|_| phase == Phase::May).map(|now| now + limits.keepalive_timeout);
        // While the answer is awaited the socket is read to see whether the client left:
        // its close frees the connection's place at once (before, a request whose client
        // had closed held its place until the handler answered or `request_timeout`: a
        // thousand connect-send-close to a slow route kept every other client at 503).
        // Only until bytes of a next request come (read into the buffer, served after this
        // one): a client that pipelines and then half-closes is answered in full, as hyper
        // answers it.
        let outcome = loop {
            let (io, slot, buf) = (&self.io, &self.slot, &mut self.buf);
            let wait = std::future::poll_fn(|cx| loop {
                if let Poll::Ready(outcome) = std::future::Future::poll(Pin::new(&mut rx), cx) {
                    return Poll::Ready(Waited::Answer(outcome));
                }
                let readable = watch && io.poll_read_ready(cx).is_ready();
                if phase == Phase::Off {
                    if !readable {
                        return Poll::Pending;
                    }
                    buf.reserve(READ_BUF);
                    match io.try_read_buf(buf) {
                        Ok(0) => return Poll::Ready(Waited::Gone),
                        // Blank lines before a request line are ignored (RFC 9112 §2.2), and
                        // some clients send a CRLF after a request's body: a few such bytes
                        // are dropped and the watch goes on (it stopped, and a client that
                        // then left held its place until its handler answered).
                        Ok(_) if drop_blank(buf, &mut blank_room) => {}
                        Ok(_) => watch = false,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return Poll::Ready(Waited::Gone),
                    }
                    continue;
                }
                match (phase, readable) {
                    (Phase::May, false) => match slot.arm(answer, own.take().expect("not armed yet")) {
                        Ok(()) => phase = Phase::Armed,
                        Err(back) => {
                            // It came meanwhile: take it.
                            (own, phase) = (Some(back), Phase::Off);
                            continue;
                        }
                    },
                    // Bytes wait (a pipelined request): the answer must wake the task.
                    (Phase::May, true) => phase = Phase::Off,
                    (Phase::Armed, true) => {
                        (own, phase) = (slot.disarm(), Phase::Off);
                        if own.is_none() {
                            continue; // written meanwhile
                        }
                    }
                    (Phase::Armed, false) | (Phase::Off, _) => {}
                }
                if phase != Phase::Off {
                    return Poll::Pending;
                }
                // Off now, with bytes to read: read them (above).
            });
            let wait = async {
                match wait.await {
                    Waited::Answer(outcome) => Some(outcome),
                    Waited::Gone => None,
                }
            };
            let deadline = match (request_deadline, idle_deadline) {
                (Some(r), Some(i)) => Some(r.min(i)),
                (r, i) => r.or(i),
            };
            let got = match deadline {
                Some(deadline) => first(pin!(wait), pin!(self.timer.until(|| deadline))).await,
                None => First::Left(wait.await),
            };
            match got {
                First::Left(Some(outcome)) => break Some(outcome),
                First::Left(None) => {
                    // Logged now, as a request whose client left: its answer reaches nobody.
                    if let Some(ticket) = own.as_mut().and_then(|o| o.ticket.take()) {
                        shared.ops.client_left(ticket);
                    }
                    match self.conn.leave() {
                        Some(place) => {
                            let at = (&shared.stats, &self.slot, answer);
                            return client_left(at, rx, in_flight, place, request_deadline);
                        }
                        // As many handlers as connections run for clients that left: this
                        // connection keeps its place until its handler answers.
                        None => watch = false,
                    }
                }
                First::Right(()) if deadline == request_deadline => break rx.give_up(),
                // The keep-alive deadline, unanswered: from here on the task writes the answer.
                First::Right(()) => {
                    idle_deadline = None;
                    if phase == Phase::Armed {
                        own = self.slot.disarm();
                    }
                    phase = Phase::Off;
                }
            }
        };
        let mut own = own.or_else(|| rx.take_armed());
        // Nobody waits any more: a late answer must see that before the client sees the 504.
        drop(rx);
        if let Some(own) = &mut own {
            self.ticket = own.ticket.take();
        }
        match outcome {
            Some(Ok(Answered::Written(written))) => {
                std::mem::forget(in_flight); // the writer counted it out
                self.written(written).await
            }
            Some(Ok(Answered::Start(start))) => {
                let accept_encoding = own.as_ref().and_then(|o| o.accept_encoding.as_ref());
                self.answer(start, is_head, accept_encoding, close).await
            }
            Some(Err(Unanswered)) => {
                stats.unanswered.fetch_add(1, Ordering::Relaxed);
                let status = shared.ops.unanswered_status();
                self.plain(status, close).await.then_some(close)
            }
            None => {
                stats.request_timeouts.fetch_add(1, Ordering::Relaxed);
                self.plain(StatusCode::GATEWAY_TIMEOUT, close).await.then_some(close)
            }
        }
    }

    /// After an answer was written in place: what the socket did not take, and what
    /// comes next; `Some(close)` as `exchange`.
    async fn written(&mut self, written: Written) -> Option<bool> {
        let Written { close, at, rest, failed } = written;
        if failed {
            return None;
        }
        if let Some(rest) = rest {
            self.out = rest;
            if !self.write_out(&[]).await {
                return None;
            }
        }
        self.idle_from = Some(at);
        Some(close)
    }

    /// Writes the application's answer; `Some(close)` as `exchange`.
    async fn answer(
        &mut self,
        start: ResponseStart,
        is_head: bool,
        accept_encoding: Option<&HeaderValue>,
        mut close: bool,
    ) -> Option<bool> {
        let shared = self.shared;
        let stats = &shared.stats;
        let shaped = shape(start, is_head, accept_encoding, &shared.config, stats);
        if let Some(ticket) = self.ticket.take() {
            let bytes = match &shaped.body {
                Outgoing::Full(b) => Some(if is_head { 0 } else { b.len() as u64 }),
                Outgoing::Stream(_) => None,
            };
            shared.ops.answered(Some(ticket), shaped.status, bytes);
        }
        // The application may ask to close too (hyper honours that as well); `encode_head`
        // then writes `connection: close` in place of the application's `Connection`.
        close |= shaped.close || self.shutdown_fired();
        self.out.clear();
        if let Outgoing::Full(_) = &shaped.body {
            let body = encode_whole(&mut self.out, &shaped, is_head, close);
            return self.write_out(body).await.then_some(close);
        }
        let Shaped { status, reason, headers, body: Outgoing::Stream(body), .. } = shaped else {
            unreachable!("whole bodies are written above")
        };
        encode_head(&mut self.out, status, reason.as_deref(), &headers, Delimit::Chunked, close);
        drop(headers);
        if !self.write_out(&[]).await {
            stats.client_aborts.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if is_head {
            return Some(close); // dropping the body reports the stream closed
        }
        let input = Input::Keep { buf: &mut self.buf, limit: shared.config.limits.max_header_size };
        let (timeout, lend) = (shared.config.limits.write_timeout, shared.lends_stream_sockets);
        match stream_conn::pump(&mut self.io, body, (timeout, lend), stats, input).await {
            Pumped::Finished => Some(close),
            Pumped::Cut => None,
        }
    }

    /// Writes the head in `out` and `body` whole, within the write timeout (at once when
    /// the socket takes them, the common case: no timer is armed). False when the
    /// connection failed.
    async fn write_out(&mut self, mut body: &[u8]) -> bool {
        // A small body joins the head: one buffer is one `send`, cheaper in the kernel than
        // a `sendmsg` of two (the copy costs less than the iovec import).
        if body.len() <= stream_conn::SMALL_SEND {
            self.out.extend_from_slice(body);
            body = &[];
        }
        let mut slices = [IoSlice::new(&self.out), IoSlice::new(body)];
        let timeout = self.shared.config.limits.write_timeout;
        // The connection's timer, asked for a deadline only if the socket does not take it
        // all at once (`tokio::time::timeout` reads the clock as it is made), each time it
        // does not: the timeout is time without progress.
        let within = Some((&mut self.timer, timeout));
        match stream_conn::write_all_vectored_within(&mut self.io, &mut slices, within).await {
            Ok(()) => true,
            Err(e) => {
                if e.kind() == std::io::ErrorKind::TimedOut {
                    self.shared.stats.write_timeouts.fetch_add(1, Ordering::Relaxed);
                }
                false
            }
        }
    }

    /// An answer of the server's own (plain text, or the error page); false when it could
    /// not be written.
    async fn plain(&mut self, status: StatusCode, close: bool) -> bool {
        let (headers, body) = self.shared.ops.pages.answer(status);
        if let Some(ticket) = self.ticket.take() {
            self.shared.ops.answered(Some(ticket), status, Some(body.len() as u64));
        }
        self.own(Own { status, headers, body }, close).await
    }

    /// After an answer that refused a body still on its way: the connection's write side
    /// is shut, and up to `left` bytes the client still sends are read and dropped for at
    /// most `REFUSED_BODY_LINGER`, until it closes.
    async fn linger(&mut self, mut left: usize) {
        let _ = self.io.shutdown().await;
        // The refused body's buffer goes now, not after the wait: its room was given back.
        self.buf = BytesMut::with_capacity(READ_BUF);
        let deadline = Instant::now() + REFUSED_BODY_LINGER;
        while left > 0 {
            self.buf.clear();
            if !matches!(self.read(|| deadline, false).await, Got::Bytes) {
                return;
            }
            left = left.saturating_sub(self.buf.len());
        }
    }

    /// Writes an answer the runtime gives itself; false when it could not be written.
    async fn own(&mut self, own: Own, close: bool) -> bool {
        let Own { status, headers, body } = own;
        self.out.clear();
        encode_head(&mut self.out, status, None, &headers, Delimit::Length(body.len() as u64), close);
        let body: &[u8] = if self.head_request { &[] } else { &body };
        self.write_out(body).await
    }
}

/// Keeps a request counted in `in_flight` until its answer was written.
struct InFlight<'a>(&'a super::stats::Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::ServerConfig;
    use crate::http::stats::Stats;
    use std::sync::atomic::AtomicU64;

    struct Refuse;
    impl crate::http::Dispatcher for Refuse {
        fn dispatch(&self, r: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
            Err(r)
        }
    }
    impl crate::http::StreamEvents for Refuse {
        fn stream_event(&self, _: crate::http::StreamEvent) {}
    }

    /// A server's shared state, configured by `configure`, whose application is gone.
    pub(in crate::http) fn shared(configure: impl FnOnce(&mut ServerConfig)) -> ServerShared {
        let mut config = ServerConfig::default();
        configure(&mut config);
        ServerShared {
            tls: None,
            static_files: None,
            config: Arc::new(config),
            dispatcher: Arc::new(Refuse),
            stats: Arc::new(Stats::default()),
            next_request_id: AtomicU64::new(0),
            ops: crate::ops::Ops::off(),
            lends_stream_sockets: false,
        }
    }

    /// A client's address and the server's.
    fn addrs() -> (SocketAddr, SocketAddr) {
        ("192.0.2.1:4000".parse().unwrap(), "127.0.0.1:80".parse().unwrap())
    }

    /// What `parse` makes of `raw`, and the bytes it leaves in the buffer.
    fn kind_with(shared: &ServerShared, raw: &[u8], serve: bool) -> (&'static str, Vec<u8>) {
        let mut buf = BytesMut::from(raw);
        let kind =
            match parse(&mut buf, shared, serve, addrs(), &ReplySlot::new(), &mut LastFields::default()) {
                Parse::Partial => "partial",
                Parse::Hyper => "hyper",
                Parse::EventStream(_) => "stream",
                Parse::Request(_) => "request",
            };
        (kind, buf.to_vec())
    }

    fn kind(raw: &[u8]) -> &'static str {
        kind_with(&shared(|c| c.limits.max_header_size = 16384), raw, true).0
    }

    #[test]
    fn a_head_copy_holds_the_bytes_at_every_size_class_edge() {
        for len in [0, 1, 95, 96, 97, 255, 256, 257, 1023, 1024, 1025, 4000] {
            let head: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let copy = head_bytes(&head);
            assert_eq!(&copy[..], &head[..], "{len} bytes");
            if len > 3 {
                let part = copy.slice(1..len - 1);
                drop(copy);
                assert_eq!(&part[..], &head[1..len - 1], "a slice outlives the head");
            }
        }
    }

    #[test]
    fn plain_requests_are_served_here() {
        assert_eq!(kind(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "request");
        assert_eq!(kind(b"QUERY /q HTTP/1.1\r\nHost: a\r\n\r\n"), "request", "any method token");
        assert_eq!(kind(b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"), "request");
        assert_eq!(kind(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, close\r\n\r\n"), "request");
        assert_eq!(kind(b"GET / HTTP/1.1\nHost: a\n\n"), "request", "bare LF, as hyper");
        assert_eq!(kind(b"GET / HTTP/1.1\r\nHost: a\r\n"), "partial");
        assert_eq!(kind(b"GE"), "partial");
    }

    #[test]
    fn the_head_is_taken_and_what_follows_stays() {
        let sh = shared(|_| {});
        let (k, rest) =
            kind_with(&sh, b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET", true);
        assert_eq!((k, &rest[..]), ("request", &b"abcGET"[..]));
        let mut buf = BytesMut::from(
            &b"GET /p?q=1 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n"[..],
        );
        let Parse::Request(p) =
            parse(&mut buf, &sh, true, addrs(), &ReplySlot::new(), &mut LastFields::default())
        else {
            panic!("a request")
        };
        let head = &p.req.head;
        assert_eq!((head.method.as_str(), head.uri.to_string().as_str()), ("GET", "/p?q=1"));
        assert_eq!(head.headers.all(&http::HeaderName::from_static("x-a")).collect::<Vec<_>>(), [b"1", b"2"]);
        assert_eq!((head.remote, head.local), addrs(), "the connection's addresses");
        assert_eq!(head.id, 2, "the server's next request id (the POST above had the first)");
        assert!(p.close);
        assert_eq!(p.body_len, 0);
    }

    #[test]
    fn everything_unusual_is_left_to_hyper_untouched() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.0\r\n\r\n",
            b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
            b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
            b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 3\r\n\r\nabc",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n b\r\n\r\n",
            b"G\0T / HTTP/1.1\r\nHost: a\r\n\r\n",
        ];
        let sh = shared(|_| {});
        for raw in cases {
            let (k, rest) = kind_with(&sh, raw, true);
            assert_eq!(k, "hyper", "{:?}", String::from_utf8_lossy(raw));
            assert_eq!(&rest[..], *raw, "the bytes stay as read: {:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn limits_send_the_request_to_hyper_for_its_answer() {
        let sh = shared(|c| {
            c.limits.max_header_size = 100;
            c.limits.max_headers = 2;
            c.limits.max_body_size = 10;
        });
        let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "a".repeat(200));
        assert_eq!(kind_with(&sh, big.as_bytes(), true).0, "hyper", "431 is hyper's");
        assert_eq!(kind_with(&sh, &big.as_bytes()[..120], true).0, "hyper", "a partial head over the limit");
        assert_eq!(kind_with(&sh, b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", true).0, "hyper");
        assert_eq!(
            kind_with(&sh, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", true).0,
            "hyper"
        );
        assert_eq!(
            kind_with(&sh, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", true).0,
            "request"
        );
    }

    #[test]
    fn only_plain_event_stream_gets_are_given_to_stream_conn() {
        let sse = b"GET /events?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n";
        assert_eq!(kind(sse), "stream");
        assert_eq!(kind(&sse[..20]), "partial");
        assert_eq!(
            kind(b"GET /e HTTP/1.1\r\nHost: a\r\nAccept: text/html, text/event-stream;q=0.9\r\n\r\n"),
            "stream"
        );
        assert_eq!(kind(b"POST /e HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n"), "request");
        let mut pipelined = sse.to_vec();
        pipelined.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(
            kind(&pipelined),
            "request",
            "something follows: served here, on a connection that goes on"
        );
        assert_eq!(
            kind(b"GET /e HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n"),
            "hyper",
            "no Host: hyper's 400"
        );
        // With hyper serving HTTP/1.1, only the event stream is taken.
        let sh = shared(|_| {});
        assert_eq!(kind_with(&sh, sse, false).0, "stream");
        assert_eq!(
            kind_with(&sh, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false),
            ("hyper", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec())
        );
    }

    /// What a request came to: its method, target, fields, body length, `close`, and the
    /// bytes left after its head.
    fn outcome(p: Parse, rest: &BytesMut) -> String {
        match p {
            Parse::Request(p) => {
                let h = &p.req.head;
                let mut fields = Vec::new();
                h.headers.each(|n, v| {
                    fields.push(format!("{}={}", String::from_utf8_lossy(n), String::from_utf8_lossy(v)))
                });
                format!(
                    "request {} {} {fields:?} body {} close {} rest {:?}",
                    h.method,
                    h.uri,
                    p.body_len,
                    p.close,
                    &rest[..]
                )
            }
            Parse::EventStream(_) => format!("stream rest {:?}", &rest[..]),
            Parse::Hyper => format!("hyper rest {:?}", &rest[..]),
            Parse::Partial => "partial".into(),
        }
    }

    /// What a connection keeps after `raw`, its first head.
    fn kept_after(raw: &str, sh: &ServerShared) -> LastFields {
        let mut last = LastFields::default();
        parse(&mut BytesMut::from(raw.as_bytes()), sh, true, addrs(), &ReplySlot::new(), &mut last);
        last
    }

    /// `outcome` of `raw` parsed whole, on a connection with nothing kept.
    fn whole(raw: &[u8], sh: &ServerShared) -> String {
        let mut buf = BytesMut::from(raw);
        let p = parse(&mut buf, sh, true, addrs(), &ReplySlot::new(), &mut LastFields::default());
        outcome(p, &buf)
    }

    #[test]
    fn a_connections_kept_fields_give_what_a_whole_parse_gives() {
        let sh = shared(|c| c.limits.max_body_size = 100);
        let block = "Host: a\r\nUser-Agent: t/1\r\nCookie: s=1; t=2\r\nContent-Length: 3\r\n\r\n";
        let lines = [
            "POST /a HTTP/1.1\r\n",
            "PUT /a/much/longer/target?x=1&y=%20 HTTP/1.1\r\n",
            "QUERY /q HTTP/1.1\r\n",
            "GET / HTTP/1.1\r\n",
            "POST  /a HTTP/1.1\r\n",
            "POST /a HTTP/1.0\r\n",
            "POST /a HTTP/1.1\n",
            "\r\nPOST /a HTTP/1.1\r\n",
            "CONNECT /a HTTP/1.1\r\n",
            "POST a HTTP/1.1\r\n",
            "POST /\u{e9} HTTP/1.1\r\n",
            "P\u{0}ST /a HTTP/1.1\r\n",
            "POST /a\u{7f} HTTP/1.1\r\n",
        ];
        let slot = ReplySlot::new();
        // Every line after every line: what one head left kept must not change the next.
        for first in lines {
            for line in lines {
                for next in ["abc", "abcGET / HTTP/1.1\r\n", ""] {
                    let mut last = kept_after(&format!("{first}{block}abc"), &sh);
                    let raw = format!("{line}{block}{next}");
                    let mut kept = BytesMut::from(raw.as_bytes());
                    let a = parse(&mut kept, &sh, true, addrs(), &slot, &mut last);
                    assert_eq!(outcome(a, &kept), whole(raw.as_bytes(), &sh), "{first:?} then {raw:?}");
                }
            }
        }
        // A request line where the fields were is refused, whatever was kept before: the
        // fields of a head with blank lines before its request line are not kept.
        let mut last = LastFields::default();
        for (raw, want) in [
            ("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "request"),
            ("GET /x HTTP/1.1\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "hyper"),
        ] {
            let mut buf = BytesMut::from(raw.as_bytes());
            let got = outcome(parse(&mut buf, &sh, true, addrs(), &slot, &mut last), &buf);
            assert!(got.starts_with(want), "{raw:?}: {got}");
        }
        // Fields that differ in a byte, or come in another order, are parsed whole.
        for other in [
            block.replace("s=1", "s=2"),
            block.replace("Host: a\r\n", "host: a\r\n"),
            "User-Agent: t/1\r\nHost: a\r\nCookie: s=1; t=2\r\nContent-Length: 3\r\n\r\n".into(),
            block.replace("Content-Length: 3", "Content-Length: 4"),
            block.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"),
            block.replace("\r\n\r\n", "\r\nTransfer-Encoding: chunked\r\n\r\n"),
            block.replace("Host: a", "Host: a@b"),
        ] {
            let raw = format!("POST /a HTTP/1.1\r\n{other}abcd");
            let mut kept = BytesMut::from(raw.as_bytes());
            let mut primed = kept_after(&format!("POST /a HTTP/1.1\r\n{block}abc"), &sh);
            assert!(primed.reuse(&mut kept.clone(), &sh, addrs(), &slot).is_none(), "{raw:?}");
            let a = parse(&mut kept, &sh, true, addrs(), &slot, &mut primed);
            assert_eq!(outcome(a, &kept), whole(raw.as_bytes(), &sh), "{raw:?}");
        }
    }

    #[test]
    fn kept_fields_meet_partial_heads_the_header_limit_other_shapes_and_heads_not_kept() {
        let sh = shared(|c| c.limits.max_header_size = 8192);
        let slot = ReplySlot::new();
        // Blocks of other shapes: bare line feeds, obs-text, `Connection: close`, more
        // fields than fit in place.
        let many: String = (0..20).map(|i| format!("X-{i}: {i}\r\n")).collect();
        for block in [
            "Host: a\nX: 1\n\n".to_string(),
            "Host: a\r\nX: caf\u{e9}\r\n\r\n".into(),
            "Host: a\r\nConnection: keep-alive, close\r\n\r\n".into(),
            format!("Host: a\r\n{many}\r\n"),
        ] {
            let mut last = kept_after(&format!("GET / HTTP/1.1\r\n{block}"), &sh);
            assert!(!last.block.is_empty(), "{block:?} is kept");
            let raw = format!("GET /b HTTP/1.1\r\n{block}GET");
            // Partial: the whole block has not come yet.
            let cut = raw.len() - 5;
            let mut part = BytesMut::from(&raw.as_bytes()[..cut]);
            assert!(last.reuse(&mut part.clone(), &sh, addrs(), &slot).is_none());
            assert_eq!(
                outcome(parse(&mut part, &sh, true, addrs(), &slot, &mut last), &part),
                whole(&raw.as_bytes()[..cut], &sh)
            );
            let mut buf = BytesMut::from(raw.as_bytes());
            assert!(last.reuse(&mut buf.clone(), &sh, addrs(), &slot).is_some(), "{block:?} is used");
            assert_eq!(
                outcome(parse(&mut buf, &sh, true, addrs(), &slot, &mut last), &buf),
                whole(raw.as_bytes(), &sh)
            );
        }
        // A longer target that takes the head past `max_header_size`: hyper's 431.
        let small = shared(|c| c.limits.max_header_size = 100);
        let block = format!("Host: a\r\nX: {}\r\n\r\n", "y".repeat(40));
        let mut last = kept_after(&format!("GET / HTTP/1.1\r\n{block}"), &small);
        assert!(!last.block.is_empty());
        let long = format!("GET /{} HTTP/1.1\r\n{block}", "t".repeat(40));
        assert!(last.reuse(&mut BytesMut::from(long.as_bytes()), &small, addrs(), &slot).is_none());
        let mut buf = BytesMut::from(long.as_bytes());
        assert!(outcome(parse(&mut buf, &small, true, addrs(), &slot, &mut last), &buf).starts_with("hyper"));
        // A kept block stays through heads that are not kept, and then serves again.
        let sh2 = shared(|c| c.limits.max_header_size = 16384);
        let kept = "Host: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n";
        let mut last = kept_after(&format!("POST / HTTP/1.1\r\n{kept}ab"), &sh2);
        for other in [
            format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "z".repeat(LAST_FIELDS_MAX)),
            "GET / HTTP/1.1\nHost: a\n\n".into(),
            "GET /e HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\nX".into(),
        ] {
            parse(&mut BytesMut::from(other.as_bytes()), &sh2, true, addrs(), &slot, &mut last);
            assert_eq!(last.block, kept.as_bytes(), "{other:?} leaves the kept block");
        }
        let again = format!("PUT /x HTTP/1.1\r\n{kept}abGET");
        let mut buf = BytesMut::from(again.as_bytes());
        assert!(last.reuse(&mut buf.clone(), &sh2, addrs(), &slot).is_some());
        let got = outcome(parse(&mut buf, &sh2, true, addrs(), &slot, &mut last), &buf);
        assert_eq!(got, whole(again.as_bytes(), &sh2));
        assert!(got.contains("body 2 close true"), "{got}");
    }

    #[test]
    fn the_kept_fields_are_used_for_the_same_fields_and_only_then() {
        let sh = shared(|_| {});
        let slot = ReplySlot::new();
        let mut last = LastFields::default();
        let head = |line: &str| BytesMut::from(format!("{line}Host: a\r\nAccept: */*\r\n\r\n").as_bytes());
        assert!(
            last.reuse(&mut head("GET / HTTP/1.1\r\n"), &sh, addrs(), &slot).is_none(),
            "nothing kept yet"
        );
        assert!(matches!(
            parse(&mut head("GET / HTTP/1.1\r\n"), &sh, true, addrs(), &slot, &mut last),
            Parse::Request(_)
        ));
        let mut again = head("DELETE /other?x HTTP/1.1\r\n");
        let p = last.reuse(&mut again, &sh, addrs(), &slot).expect("the same fields after another line");
        assert!(again.is_empty(), "the head is taken");
        assert_eq!((p.req.head.method.as_str(), p.req.head.uri.to_string().as_str()), ("DELETE", "/other?x"));
        assert_eq!(p.req.head.headers.first_bytes(&http::header::ACCEPT), Some(&b"*/*"[..]));
        // A head that asks for a stream is not kept: whether it is one depends on what follows.
        let sse = b"GET /e HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\nGET / HTTP/1.1\r\n";
        let mut fresh = LastFields::default();
        assert!(matches!(
            parse(&mut BytesMut::from(&sse[..]), &sh, true, addrs(), &slot, &mut fresh),
            Parse::Request(_)
        ));
        assert!(fresh.block.is_empty());
        // Nor is a block over the bound.
        let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "a".repeat(LAST_FIELDS_MAX));
        let big_sh = shared(|c| c.limits.max_header_size = 16384);
        assert!(matches!(
            parse(&mut BytesMut::from(big.as_bytes()), &big_sh, true, addrs(), &slot, &mut fresh),
            Parse::Request(_)
        ));
        assert!(fresh.block.is_empty());
        // With hyper serving HTTP/1.1 (`serve` false), only event streams are taken.
        let mut plain = head("GET / HTTP/1.1\r\n");
        assert!(matches!(parse(&mut plain, &sh, false, addrs(), &slot, &mut last), Parse::Hyper));
    }

    #[test]
    fn a_connection_whose_heads_differ_keeps_their_fields_only_now_and_then() {
        let sh = shared(|_| {});
        let slot = ReplySlot::new();
        let mut last = LastFields::default();
        let head = |cookie: usize| format!("POST /a HTTP/1.1\r\nHost: a\r\nCookie: s={cookie}\r\n\r\n");
        let block = |i: usize| head(i).split_once("\r\n").expect("a request line").1.to_string();
        let mut kept = Vec::new();
        for i in 0..48 {
            let raw = head(i);
            assert!(matches!(
                parse(&mut BytesMut::from(raw.as_bytes()), &sh, true, addrs(), &slot, &mut last),
                Parse::Request(_)
            ));
            if last.block == block(i).as_bytes() {
                kept.push(i);
            }
        }
        // The first two, then every 16th head of the run.
        assert_eq!(kept, [0, 1, 15, 31, 47]);
        // A head that repeats the kept one is taken from it, and the next is kept again.
        let mut again = BytesMut::from(head(47).as_bytes());
        assert!(last.reuse(&mut again, &sh, addrs(), &slot).is_some());
        assert!(matches!(
            parse(&mut BytesMut::from(head(100).as_bytes()), &sh, true, addrs(), &slot, &mut last),
            Parse::Request(_)
        ));
        assert_eq!(last.block, block(100).as_bytes(), "after a repeat, a new head is kept at once");
    }

    #[test]
    fn lengths_are_plain_digits() {
        assert_eq!(content_length(b"0"), Some(0));
        assert_eq!(content_length(b"1234"), Some(1234));
        assert_eq!(content_length(b"9999999999999999999"), Some(9_999_999_999_999_999_999));
        for bad in [&b""[..], b"+1", b"-1", b"1 ", b"0x1", b"1,1", b"99999999999999999999"] {
            assert_eq!(content_length(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
