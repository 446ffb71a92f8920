//! Frames between the master and a worker: length-prefixed binary messages over one Unix
//! socketpair per worker.
//!
//! Owns: the frame types, one per direction — `ToWorker` (tags 1–31: `ToLink` for the
//! worker's link, `ToApp` for what it runs) and `ToMaster` (tags 32–63) — their encoding,
//! and the two async halves that move them (a reader that yields frames, a writer task that
//! batches whatever is queued into one write).
//! Does not own: what frames mean (`workers::master`, `workers::link`).
//!
//! Wire format: `u32 length (LE) | u8 tag | fields`, fields in the order of the variant;
//! integers little-endian, byte strings as `u32 length | bytes`. A malformed frame, or one
//! of the other direction, is an error that ends the connection: both ends are this same
//! build.

use std::io;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::http::exchange::RequestHead;
use crate::http::fields::{FieldSpans, Headers, Span};
use crate::http::HeaderList;
use crate::ops::trace::Trace;

/// Frames larger than this are refused (a request body is bounded far below it).
pub const MAX_FRAME: usize = 1 << 30;

/// A request as the master hands it to a worker.
/// A request as the master hands it to a worker: the head as the master read it (encoded
/// straight from its typed fields, no copies made first) and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    pub head: RequestHead,
    pub body: WireBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WireBody {
    Empty,
    Bytes(Bytes),
    Multipart { fields: Vec<(Bytes, Bytes)>, files: Vec<WireFile> },
}

/// An uploaded file the master spooled; the worker owns (and removes) it from here on.
#[derive(Debug, Clone, PartialEq)]
pub struct WireFile {
    pub field: Bytes,
    pub name: Bytes,
    pub full_path: Bytes,
    pub content_type: Bytes,
    pub path: Bytes,
    pub size: u64,
    pub error: i64,
}

/// Response head fields shared by full and streamed responses.
#[derive(Debug, Clone, PartialEq)]
pub struct WireHead {
    pub status: StatusCode,
    pub reason: Option<Bytes>,
    pub headers: HeaderList,
}

/// Declares frame enums and their wire form from one list: each variant's tag and fields,
/// in the order they are written and read. Encoding and decoding are generated from the
/// same list, so the two cannot drift apart (issue 10).
macro_rules! frames {
    ($(
        $(#[$enum_meta:meta])*
        enum $enum:ident {
            $(
                $(#[$meta:meta])*
                $name:ident $({ $($field:ident : $ty:ty),* $(,)? })? = $tag:literal
            ),* $(,)?
        }
    )*) => {$(
        $(#[$enum_meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $enum {
            $( $(#[$meta])* $name $({ $($field: $ty),* })? ),*
        }

        impl $enum {
            /// Writes the tag and the fields, in their declared order.
            fn write_fields(&self, b: &mut BytesMut) {
                match self {
                    $( Self::$name $({ $($field),* })? => {
                        put_le(b, [$tag]);
                        $($( Wire::put($field, b); )*)?
                    } )*
                }
            }

            /// Reads the fields of the frame tagged `tag`, in their declared order; `None`
            /// if `tag` is not one of these frames.
            fn read_fields(tag: u8, d: &mut Bytes) -> io::Result<Option<Self>> {
                Ok(Some(match tag {
                    $( $tag => Self::$name $({ $($field: <$ty as Wire>::get(d)?),* })?, )*
                    _ => return Ok(None),
                }))
            }
        }
    )*};
}

/// The `origin` of a broker message that came from another server.
pub const OTHER_SERVER: u32 = u32::MAX;

frames! {
    /// Master → worker, acted on by the worker's link (its I/O thread): requests and the flow
    /// of their streams.
    enum ToLink {
        Request { request: Box<WireRequest> } = 2,
        /// The client of a stream went away, or (`cut_off`) the master cut the stream off (a
        /// topic publish's backpressure policy, counted there).
        StreamClosed { stream: u64, cut_off: bool } = 3,
        /// The reader of a stream took `total` bytes of the worker's chunks in all (counted
        /// as a stream's queue counts them: `http::stream::cost`). The worker sends at most
        /// `sse_queue_size` bytes beyond what it was credited.
        Credit { stream: u64, total: u64 } = 4,
        /// Another worker published to `topic` (`dispatch = connection`): publish `frame`
        /// to this worker's streams and answer `Counted` with how many there were.
        TopicPublish { gather: u64, topic: Bytes, frame: Bytes } = 12,
        /// Answer `Counted` with how many streams of this worker joined `topic`.
        TopicCount { gather: u64, topic: Bytes } = 13,
        /// Send a `Stats` report now, then `Counted` (n = 0).
        Report { gather: u64 } = 14,
    }

    /// Master → worker, handed by the link to what the worker runs (its PHP thread) as they
    /// are.
    enum ToApp {
        /// First frame on a new link.
        Init { worker: u32, workers: u32, generation: u64, master_pid: u32, first_start: bool } = 1,
        /// The answer to a numbered question (`Publish`, `Subscribers`).
        Answer { seq: u64, value: u64 } = 6,
        /// Aggregated counters, the answer to `StatsQuery`.
        StatsAnswer { seq: u64, pairs: Vec<(Bytes, u64)> } = 7,
        /// A message of broker `bus` (0: `workers://`, n: this server's shared broker n − 1)
        /// from worker `origin` (`OTHER_SERVER`: another server).
        BrokerMessage { bus: u32, origin: u32, topic: Bytes, payload: Bytes } = 8,
        /// Finish in-flight work and exit; `server_stop` when the whole server stops (not a
        /// recycle), so once-per-server hooks run.
        Shutdown { server_stop: bool } = 9,
        /// The master's connection to shared broker `bus` went up or down.
        BrokerState { bus: u32, connected: bool } = 10,
        /// The master's connection to shared broker `bus` failed (no credentials in it).
        BrokerError { bus: u32, text: Bytes } = 11,
    }

    /// Worker → master (tags 32–63).
    enum ToMaster {
        Ready = 32,
        Response { req: u64, head: WireHead, body: Bytes } = 33,
        StreamStart { req: u64, stream: u64, head: WireHead, heartbeat_ms: u64 } = 34,
        Chunk { stream: u64, data: Bytes } = 35,
        End { stream: u64 } = 36,
        Abort { stream: u64 } = 37,
        Join { stream: u64, topic: Bytes } = 38,
        Leave { stream: u64, topic: Bytes } = 39,
        Publish { seq: u64, topic: Bytes, frame: Bytes } = 40,
        Subscribers { seq: u64, topic: Bytes } = 41,
        BrokerSubscribe { bus: u32, topic: Bytes } = 42,
        BrokerUnsubscribe { bus: u32, topic: Bytes } = 43,
        BrokerPublish { bus: u32, topic: Bytes, payload: Bytes } = 44,
        /// The worker reached max_requests: replace it.
        Retire = 45,
        /// The worker's counters (sent now and then, and before a `StatsQuery`).
        Stats { pairs: Vec<(Bytes, u64)> } = 46,
        StatsQuery { seq: u64 } = 47,
        /// The answer to a `TopicPublish` or `TopicCount`: this worker's streams.
        Counted { gather: u64, n: u64 } = 48,
    }
}

/// Every frame the master sends a worker (tags 1–31), by what acts on it there.
#[derive(Debug, Clone, PartialEq)]
pub enum ToWorker {
    Link(ToLink),
    App(ToApp),
}

impl From<ToLink> for ToWorker {
    fn from(f: ToLink) -> Self {
        Self::Link(f)
    }
}

impl From<ToApp> for ToWorker {
    fn from(f: ToApp) -> Self {
        Self::App(f)
    }
}

/// The frames of one direction, the unit a `FrameReader` yields and a writer takes. A tag of
/// the other direction is a protocol error, as an unknown one is.
pub trait Frame: Sized {
    /// Who reads these frames (for the error a misdirected frame gets).
    const READER: &'static str;

    /// Writes the tag and the fields.
    fn write_fields(&self, b: &mut BytesMut);

    /// Reads the fields of the frame tagged `tag`; `None` if `tag` is not a frame of this
    /// direction.
    fn read_fields(tag: u8, d: &mut Bytes) -> io::Result<Option<Self>>;

    /// The bytes a broker message holds while queued (0 for other frames): what a backlog
    /// counter adds when it queues one and the writer takes off once written.
    fn broker_bytes(&self) -> usize {
        0
    }

    /// A frame a queue keeps as it is, for its writer to encode when it writes it: one that
    /// shares a large payload (a broker message fanned out to every worker holds one
    /// `Bytes`; copied into each worker's queue at once, N workers would hold N copies), or
    /// that counts against a backlog the writer gives back step by step.
    fn heavy(&self) -> bool {
        self.broker_bytes() > 0
    }

    /// Appends the frame, length prefix included.
    fn encode(&self, b: &mut BytesMut) {
        let start = b.len();
        put_le(b, 0u32.to_le_bytes());
        self.write_fields(b);
        let len = (b.len() - start - 4) as u32;
        b[start..start + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// Decodes one frame body (without its length prefix).
    fn decode(mut b: Bytes) -> io::Result<Self> {
        let d = &mut b;
        let t = get_u8(d)?;
        let Some(f) = Self::read_fields(t, d)? else {
            return Err(bad(format!("frame tag {t} is not one {} reads", Self::READER)));
        };
        if d.has_remaining() {
            return Err(bad(format!("{} trailing bytes after frame {t}", d.remaining())));
        }
        Ok(f)
    }
}

impl Frame for ToWorker {
    const READER: &'static str = "a worker";

    fn write_fields(&self, b: &mut BytesMut) {
        match self {
            Self::Link(f) => f.write_fields(b),
            Self::App(f) => f.write_fields(b),
        }
    }

    fn read_fields(tag: u8, d: &mut Bytes) -> io::Result<Option<Self>> {
        if let Some(f) = ToLink::read_fields(tag, d)? {
            return Ok(Some(Self::Link(f)));
        }
        Ok(ToApp::read_fields(tag, d)?.map(Self::App))
    }

    fn broker_bytes(&self) -> usize {
        match self {
            Self::App(ToApp::BrokerMessage { topic, payload, .. }) => topic.len() + payload.len(),
            _ => 0,
        }
    }

    fn heavy(&self) -> bool {
        match self {
            Self::App(ToApp::BrokerMessage { .. }) => true,
            Self::Link(ToLink::TopicPublish { frame, .. }) => frame.len() > HEAVY,
            Self::Link(ToLink::Request { request }) => match &request.body {
                WireBody::Bytes(b) => b.len() > HEAVY,
                WireBody::Multipart { fields, .. } => {
                    fields.iter().map(|(_, v)| v.len()).sum::<usize>() > HEAVY
                }
                WireBody::Empty => false,
            },
            _ => false,
        }
    }
}

impl Frame for ToMaster {
    const READER: &'static str = "the master";

    fn write_fields(&self, b: &mut BytesMut) {
        ToMaster::write_fields(self, b);
    }

    fn read_fields(tag: u8, d: &mut Bytes) -> io::Result<Option<Self>> {
        ToMaster::read_fields(tag, d)
    }

    fn heavy(&self) -> bool {
        match self {
            Self::Response { body: b, .. }
            | Self::Chunk { data: b, .. }
            | Self::BrokerPublish { payload: b, .. } => b.len() > HEAVY,
            _ => false,
        }
    }
}

/// A frame whose payload is larger than this is `heavy`: its bytes are copied by the
/// writer, not by the sender under the queue's lock.
const HEAVY: usize = 64 << 10;

/// A value with a wire form: `put` appends it, `get` reads it back (bounded: a length read
/// from the peer never reserves more than a few entries ahead of the bytes).
trait Wire: Sized {
    fn put(&self, b: &mut BytesMut);
    fn get(d: &mut Bytes) -> io::Result<Self>;
}

impl Wire for u8 {
    fn put(&self, b: &mut BytesMut) {
        put_le(b, [*self]);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        get_u8(d)
    }
}

impl Wire for u16 {
    fn put(&self, b: &mut BytesMut) {
        put_le(b, (*self).to_le_bytes());
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        get_u16(d)
    }
}

impl Wire for u32 {
    fn put(&self, b: &mut BytesMut) {
        put_le(b, (*self).to_le_bytes());
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        get_u32(d)
    }
}

impl Wire for u64 {
    fn put(&self, b: &mut BytesMut) {
        put_le(b, (*self).to_le_bytes());
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        get_u64(d)
    }
}

impl Wire for i64 {
    fn put(&self, b: &mut BytesMut) {
        put_le(b, (*self).to_le_bytes());
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        get_u64(d).map(|n| n as i64)
    }
}

impl Wire for bool {
    fn put(&self, b: &mut BytesMut) {
        put_le(b, [u8::from(*self)]);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(get_u8(d)? != 0)
    }
}

impl Wire for Bytes {
    fn put(&self, b: &mut BytesMut) {
        put_bytes(b, self);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        get_bytes(d)
    }
}

impl Wire for Option<Bytes> {
    fn put(&self, b: &mut BytesMut) {
        match self {
            Some(v) => {
                put_le(b, [1]);
                put_bytes(b, v);
            }
            None => put_le(b, [0]),
        }
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(if get_u8(d)? != 0 { Some(get_bytes(d)?) } else { None })
    }
}

/// A count, then the items: header pairs, counters, uploaded files.
impl<A: Wire, B: Wire> Wire for Vec<(A, B)> {
    fn put(&self, b: &mut BytesMut) {
        put_le(b, (self.len() as u32).to_le_bytes());
        for (x, y) in self {
            x.put(b);
            y.put(b);
        }
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        let n = get_u32(d)? as usize;
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            out.push((A::get(d)?, B::get(d)?));
        }
        Ok(out)
    }
}

impl<T: Wire> Wire for Box<T> {
    fn put(&self, b: &mut BytesMut) {
        (**self).put(b);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        T::get(d).map(Box::new)
    }
}

impl Wire for WireHead {
    fn put(&self, b: &mut BytesMut) {
        self.status.put(b);
        self.reason.put(b);
        self.headers.put(b);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(Self { status: Wire::get(d)?, reason: Wire::get(d)?, headers: Wire::get(d)? })
    }
}

impl Wire for WireFile {
    fn put(&self, b: &mut BytesMut) {
        self.field.put(b);
        self.name.put(b);
        self.full_path.put(b);
        self.content_type.put(b);
        self.path.put(b);
        self.size.put(b);
        self.error.put(b);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(Self {
            field: Wire::get(d)?,
            name: Wire::get(d)?,
            full_path: Wire::get(d)?,
            content_type: Wire::get(d)?,
            path: Wire::get(d)?,
            size: Wire::get(d)?,
            error: Wire::get(d)?,
        })
    }
}

impl Wire for WireBody {
    fn put(&self, b: &mut BytesMut) {
        match self {
            Self::Empty => put_le(b, [0]),
            Self::Bytes(data) => {
                put_le(b, [1]);
                data.put(b);
            }
            Self::Multipart { fields, files } => {
                put_le(b, [2]);
                fields.put(b);
                put_le(b, (files.len() as u32).to_le_bytes());
                for f in files {
                    f.put(b);
                }
            }
        }
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(match get_u8(d)? {
            0 => Self::Empty,
            1 => Self::Bytes(Wire::get(d)?),
            2 => {
                let fields = Wire::get(d)?;
                let n = get_u32(d)? as usize;
                let mut files = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    files.push(WireFile::get(d)?);
                }
                Self::Multipart { fields, files }
            }
            k => return Err(bad(format!("unknown body kind {k}"))),
        })
    }
}

impl Wire for WireRequest {
    fn put(&self, b: &mut BytesMut) {
        self.head.put(b);
        self.body.put(b);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(Self { head: Wire::get(d)?, body: Wire::get(d)? })
    }
}

impl Wire for RequestHead {
    fn put(&self, b: &mut BytesMut) {
        self.id.put(b);
        self.method.put(b);
        self.uri.put(b);
        self.version.put(b);
        self.headers.put(b);
        self.remote.put(b);
        self.local.put(b);
        self.tls.put(b);
        self.trace.put(b);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(Self {
            id: Wire::get(d)?,
            method: Wire::get(d)?,
            uri: Wire::get(d)?,
            version: Wire::get(d)?,
            headers: Wire::get(d)?,
            remote: Wire::get(d)?,
            local: Wire::get(d)?,
            tls: Wire::get(d)?,
            trace: Wire::get(d)?,
        })
    }
}

/// Both ends are the same build, and the master only sends what it parsed: the typed
/// values below read back what they wrote. Bytes that do not parse (a damaged frame) fall
/// back to a harmless value rather than ending the link, as the text fields always did.
impl Wire for Method {
    fn put(&self, b: &mut BytesMut) {
        put_bytes(b, self.as_str().as_bytes());
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(Method::from_bytes(&get_bytes(d)?).unwrap_or(Method::GET))
    }
}

/// Scheme, authority, path and query as three fields (empty: absent), put back together
/// part by part: the worker gets the parts the master had, and no text is made of the
/// whole (an HTTP/2 request has all three).
impl Wire for Uri {
    /// The three lengths first, in one call; then the parts that are not empty (an
    /// HTTP/1.1 request has only its path).
    fn put(&self, b: &mut BytesMut) {
        let parts = [
            self.scheme_str().unwrap_or_default(),
            self.authority().map_or("", |a| a.as_str()),
            self.path_and_query().map_or("", |pq| pq.as_str()),
        ];
        let mut lens = [0u8; 12];
        for (len, part) in lens.chunks_exact_mut(4).zip(parts) {
            len.copy_from_slice(&(part.len() as u32).to_le_bytes());
        }
        put_le(b, lens);
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            b.put_slice(part.as_bytes());
        }
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        let lens = [get_u32(d)?, get_u32(d)?, get_u32(d)?];
        let mut part = |len: u32| -> io::Result<Bytes> {
            need(d, len as usize)?;
            Ok(d.split_to(len as usize))
        };
        let (scheme, authority, path) = (part(lens[0])?, part(lens[1])?, part(lens[2])?);
        let path_and_query =
            if path.is_empty() { None } else { http::uri::PathAndQuery::from_maybe_shared(path).ok() };
        let mut parts = http::uri::Parts::default();
        parts.path_and_query = match path_and_query {
            // Only a path and query, as every HTTP/1.1 request has: no parts to put together.
            Some(pq) if scheme.is_empty() && authority.is_empty() => return Ok(Uri::from(pq)),
            pq => pq,
        };
        if !scheme.is_empty() {
            parts.scheme = http::uri::Scheme::try_from(&scheme[..]).ok();
        }
        if !authority.is_empty() {
            parts.authority = http::uri::Authority::from_maybe_shared(authority).ok();
        }
        Ok(Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("/")))
    }
}

impl Wire for Version {
    fn put(&self, b: &mut BytesMut) {
        put_le(
            b,
            [match *self {
                Version::HTTP_09 | Version::HTTP_10 => 0,
                Version::HTTP_2 | Version::HTTP_3 => 2,
                _ => 1,
            }],
        );
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(match get_u8(d)? {
            0 => Version::HTTP_10,
            2 => Version::HTTP_2,
            _ => Version::HTTP_11,
        })
    }
}

impl Wire for StatusCode {
    fn put(&self, b: &mut BytesMut) {
        put_le(b, self.as_u16().to_le_bytes());
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(StatusCode::from_u16(get_u16(d)?).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

/// Fields come in one of two forms, after a byte that says which.
/// - `BLOCK`: the fields as via's HTTP/1.1 parser found them: the part of the head that
///   holds them and the spans of each name and value in it (8 bytes a field), written with
///   one copy. The worker takes them as they are, leaving out a field whose spans are not
///   inside the block or that is not valid (only a damaged frame has one). At most
///   `MAX_BLOCK_FIELDS` (the parser takes far fewer); more is a damaged frame.
/// - `PAIRS`: a count, then name and value of each header (a map's fields: hyper, HTTP/2,
///   a request made in PHP). Values are slices of the frame (no copy); a pair that is not
///   valid is skipped.
impl Wire for Headers {
    fn put(&self, b: &mut BytesMut) {
        match self.block() {
            Some((head, fields)) if fields.len() <= MAX_BLOCK_FIELDS => {
                // From the first field to the end of the last: not the request line (its
                // target goes in the `Uri`) nor the blank line; the spans count from there.
                // (httparse puts an empty value where it would start, inside the fields;
                // `saturating_sub` below is only a guard.)
                let from = fields.iter().map(|(n, _)| n.at).min().unwrap_or(0);
                let to = fields
                    .iter()
                    .map(|(n, v)| n.range().end.max(v.range().end))
                    .max()
                    .unwrap_or(usize::from(from));
                put_le(b, [BLOCK]);
                put_bytes(b, &head[usize::from(from)..to]);
                put_le(b, (fields.len() as u16).to_le_bytes());
                // The spans through a buffer on the stack: one call per 16 fields.
                for chunk in fields.chunks(16) {
                    let mut buf = [0u8; 16 * 8];
                    for (i, (n, v)) in chunk.iter().enumerate() {
                        for (j, x) in
                            [n.at - from, n.len, v.at.saturating_sub(from), v.len].into_iter().enumerate()
                        {
                            buf[i * 8 + j * 2..i * 8 + j * 2 + 2].copy_from_slice(&x.to_le_bytes());
                        }
                    }
                    b.put_slice(&buf[..chunk.len() * 8]);
                }
            }
            _ => {
                put_le(b, [PAIRS]);
                put_le(b, (self.len() as u32).to_le_bytes());
                self.each(|k, v| {
                    put_bytes(b, k);
                    put_bytes(b, v);
                });
            }
        }
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        match get_u8(d)? {
            BLOCK => {
                let head = get_bytes(d)?;
                let n = usize::from(get_u16(d)?);
                if n > MAX_BLOCK_FIELDS {
                    return Err(bad(format!("{n} fields in a block, more than {MAX_BLOCK_FIELDS}")));
                }
                need(d, n * 8)?;
                let span = |b: &[u8]| Span {
                    at: u16::from_le_bytes([b[0], b[1]]),
                    len: u16::from_le_bytes([b[2], b[3]]),
                };
                let mut fields: FieldSpans =
                    d[..n * 8].chunks_exact(8).map(|f| (span(&f[..4]), span(&f[4..]))).collect();
                d.advance(n * 8);
                // A field that is not valid (only a damaged frame has one) is left out; the
                // usual block is checked in one pass that moves nothing.
                if !fields.iter().all(|&(n, v)| Headers::is_valid_in(&head, n, v)) {
                    fields.retain(|&mut (n, v)| Headers::is_valid_in(&head, n, v));
                }
                Ok(Headers::from_head(head, fields))
            }
            PAIRS => {
                if let Some((len, fields)) = field_spans(d) {
                    if let Some(headers) = Headers::from_block(d.slice(..len), fields) {
                        d.advance(len);
                        return Ok(headers);
                    }
                }
                <HeaderMap as Wire>::get(d).map(Headers::from_map)
            }
            k => Err(bad(format!("unknown form of fields {k}"))),
        }
    }
}

/// The forms of `Headers` on the wire.
const PAIRS: u8 = 0;
const BLOCK: u8 = 1;
/// Fields in a `BLOCK` at most: checking them is linear in their count times the block's
/// length, and a map of them must fit (`h1` takes 64 at most).
const MAX_BLOCK_FIELDS: usize = 1024;

/// Where each name and value of an encoded `HeaderMap` lies in `d`, and the encoding's
/// length; `None` when it is cut short or longer than a `Span` reaches. (A map's fields as
/// `PAIRS` become a block of the frame this way, with no map built.)
fn field_spans(d: &[u8]) -> Option<(usize, FieldSpans)> {
    let n = u32::from_le_bytes(d.get(..4)?.try_into().ok()?) as usize;
    let mut at = 4;
    let mut next = || -> Option<Span> {
        let len = u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?) as usize;
        let span = Span { at: u16::try_from(at + 4).ok()?, len: u16::try_from(len).ok()? };
        at = at + 4 + len;
        (at <= d.len().min(usize::from(u16::MAX))).then_some(span)
    };
    let mut fields = FieldSpans::new();
    for _ in 0..n {
        let name = next()?;
        fields.push((name, next()?));
    }
    Some((at, fields))
}

/// Fields on the wire: their count, then each name and value. Both a request's map and an
/// answer's list are sent this way.
fn put_fields<'a>(
    b: &mut BytesMut,
    n: usize,
    fields: impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)>,
) {
    put_le(b, (n as u32).to_le_bytes());
    for (k, v) in fields {
        put_bytes(b, k.as_str().as_bytes());
        put_bytes(b, v.as_bytes());
    }
}

/// Reads what `put_fields` wrote, giving each valid field to `add` (an invalid one, which
/// only a damaged frame has, is skipped); the count read first.
fn get_fields(
    d: &mut Bytes,
    mut add: impl FnMut(HeaderName, HeaderValue) -> io::Result<()>,
) -> io::Result<()> {
    let n = get_u32(d)? as usize;
    for _ in 0..n {
        let k = get_bytes(d)?;
        let v = get_bytes(d)?;
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(&k), HeaderValue::from_maybe_shared(v)) {
            add(k, v)?;
        }
    }
    Ok(())
}

/// The count a field list starts with, without taking it (for a capacity).
fn peek_count(d: &Bytes) -> usize {
    d.get(..4).map_or(0, |c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
}

impl Wire for HeaderMap {
    fn put(&self, b: &mut BytesMut) {
        put_fields(b, self.len(), self.iter());
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        let n = peek_count(d);
        let mut h = HeaderMap::with_capacity(n.min(128));
        get_fields(d, |k, v| {
            // Past the map's limit (tens of thousands of names) `append` would panic.
            h.try_append(k, v).map(drop).map_err(|_| bad(format!("more than {n} headers fit in a map")))
        })?;
        Ok(h)
    }
}

/// An answer's fields, as a `HeaderMap`'s: the count, then each name and value.
impl Wire for HeaderList {
    fn put(&self, b: &mut BytesMut) {
        put_fields(b, self.len(), self.iter());
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        // Room for two more: the master adds its affinity cookie and the coding's `Vary`.
        // (A count past what the frame holds ends at its first missing field.)
        let mut h = HeaderList::with_capacity(peek_count(d).min(128) + 2);
        get_fields(d, |k, v| {
            h.push(k, v); // in the order the worker's list had them: no regrouping
            Ok(())
        })?;
        Ok(h)
    }
}

/// A family byte (4 or 6), the address's bytes, the port (and for IPv6 its flow label
/// and scope id).
impl Wire for SocketAddr {
    /// Through a buffer on the stack: one call, not four or six.
    fn put(&self, b: &mut BytesMut) {
        let mut buf = [0u8; 1 + 16 + 2 + 8];
        let n = match self {
            SocketAddr::V4(a) => {
                buf[0] = 4;
                buf[1..5].copy_from_slice(&a.ip().octets());
                buf[5..7].copy_from_slice(&a.port().to_le_bytes());
                7
            }
            SocketAddr::V6(a) => {
                buf[0] = 6;
                buf[1..17].copy_from_slice(&a.ip().octets());
                buf[17..19].copy_from_slice(&a.port().to_le_bytes());
                buf[19..23].copy_from_slice(&a.flowinfo().to_le_bytes());
                buf[23..27].copy_from_slice(&a.scope_id().to_le_bytes());
                27
            }
        };
        b.put_slice(&buf[..n]);
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        let ip = match get_u8(d)? {
            4 => {
                need(d, 4)?;
                let mut o = [0; 4];
                d.copy_to_slice(&mut o);
                IpAddr::from(o)
            }
            6 => {
                need(d, 16)?;
                let mut o = [0; 16];
                d.copy_to_slice(&mut o);
                IpAddr::from(o)
            }
            f => return Err(bad(format!("unknown address family {f}"))),
        };
        let port = get_u16(d)?;
        Ok(match ip {
            IpAddr::V4(ip) => SocketAddr::new(IpAddr::V4(ip), port),
            IpAddr::V6(ip) => SocketAddr::V6(std::net::SocketAddrV6::new(ip, port, get_u32(d)?, get_u32(d)?)),
        })
    }
}

/// `Trace::to_wire`'s bytes, empty for none.
impl Wire for Option<Trace> {
    fn put(&self, b: &mut BytesMut) {
        match self {
            Some(t) => put_bytes(b, &t.to_wire()),
            None => put_le(b, 0u32.to_le_bytes()),
        }
    }
    fn get(d: &mut Bytes) -> io::Result<Self> {
        Ok(Trace::from_wire(&get_bytes(d)?))
    }
}

fn put_bytes(b: &mut BytesMut, v: &[u8]) {
    b.reserve(4 + v.len());
    put_le(b, (v.len() as u32).to_le_bytes());
    b.extend_from_slice(v);
}

/// Appends `v`'s bytes, stored in place: `BufMut::put_u32_le` and its kind each call
/// `BytesMut::put_slice`, which the compiler keeps out of line (~60 instructions a call
/// with its `memcpy`; a request's frame has about twenty such fields).
#[inline(always)]
fn put_le<const N: usize>(b: &mut BytesMut, v: [u8; N]) {
    b.reserve(N);
    // SAFETY: `reserve` made room for N bytes past the length (the spare capacity, whose
    // pointer covers them), and they are written before the length covers them.
    unsafe {
        std::ptr::copy_nonoverlapping(v.as_ptr(), b.spare_capacity_mut().as_mut_ptr().cast::<u8>(), N);
        b.set_len(b.len() + N);
    }
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn need(d: &Bytes, n: usize) -> io::Result<()> {
    if d.remaining() < n {
        return Err(bad(format!("frame truncated: need {n} bytes, {} left", d.remaining())));
    }
    Ok(())
}

fn get_u8(d: &mut Bytes) -> io::Result<u8> {
    need(d, 1)?;
    Ok(d.get_u8())
}

fn get_u16(d: &mut Bytes) -> io::Result<u16> {
    need(d, 2)?;
    Ok(d.get_u16_le())
}

fn get_u32(d: &mut Bytes) -> io::Result<u32> {
    need(d, 4)?;
    Ok(d.get_u32_le())
}

fn get_u64(d: &mut Bytes) -> io::Result<u64> {
    need(d, 8)?;
    Ok(d.get_u64_le())
}

fn get_bytes(d: &mut Bytes) -> io::Result<Bytes> {
    let n = get_u32(d)? as usize;
    need(d, n)?;
    Ok(d.split_to(n))
}

/// Reads the frames of one direction (`F`) from one end of a link.
pub struct FrameReader<R, F> {
    io: R,
    buf: BytesMut,
    frames: PhantomData<fn() -> F>,
}

impl<R: AsyncRead + Unpin, F: Frame> FrameReader<R, F> {
    pub fn new(io: R) -> Self {
        Self { io, buf: BytesMut::with_capacity(64 * 1024), frames: PhantomData }
    }

    /// The next frame; `None` at a clean end of the link.
    ///
    /// Each frame costs a unit of the task's Tokio budget: one read can bring thousands of
    /// small frames (as many as the buffer holds, and it keeps the capacity of the largest
    /// frame seen), and handing them out without a yield point would let one peer hold a
    /// runtime thread — every other connection on it — for as long as it keeps writing.
    pub async fn next(&mut self) -> io::Result<Option<F>> {
        tokio::task::coop::consume_budget().await;
        loop {
            if self.buf.len() >= 4 {
                let len = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
                if len == 0 || len > MAX_FRAME {
                    return Err(bad(format!("frame length {len}")));
                }
                if self.buf.len() >= 4 + len {
                    self.buf.advance(4);
                    let body = self.buf.split_to(len).freeze();
                    return F::decode(body).map(Some);
                }
                self.buf.reserve(4 + len - self.buf.len());
            } else if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(64 * 1024);
            }
            let n = self.io.read_buf(&mut self.buf).await?;
            if n == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(io::ErrorKind::UnexpectedEof, "link closed mid-frame"))
                };
            }
        }
    }
}

/// A link's socket as a Tokio stream registered with `rt`.
pub fn async_stream(
    fd: std::os::fd::OwnedFd,
    rt: &tokio::runtime::Handle,
) -> io::Result<tokio::net::UnixStream> {
    let std_stream = std::os::unix::net::UnixStream::from(fd);
    std_stream.set_nonblocking(true)?;
    let _enter = rt.enter();
    tokio::net::UnixStream::from_std(std_stream)
}

/// Bytes a writer keeps of its buffer between batches; a larger one (a burst) is let go.
const KEEP_BUFFER: usize = 1 << 20;
/// A writer encodes queued `heavy` frames into one write up to about this many bytes.
const WRITE_STEP: usize = 1 << 20;

/// Frames on their way to the peer, one queue per link direction. A frame is encoded into
/// the queue's buffer as it is sent, under the queue's lock, and the link's writer
/// (`write_frames_until`) takes what is queued in one swap and writes it with one call. A
/// frame is never moved into a channel slot and out again, and the writer is woken once
/// per batch: by the send that finds the queue empty. A `heavy` frame is queued as it is
/// and encoded by the writer, in writes of about `WRITE_STEP` bytes, after which its
/// backlog is given back.
pub struct FrameSender<F> {
    queue: Arc<Queue<F>>,
}

/// The writer's end of a `FrameSender`'s queue. Dropping it (the writer ended: its peer
/// stopped reading, or it was closed) makes every later send fail.
pub struct FrameQueue<F> {
    queue: Arc<Queue<F>>,
}

struct Queue<F> {
    state: parking_lot::Mutex<QueueState<F>>,
    wake: tokio::sync::Notify,
    /// A `send_deferred` queued frames and the writer was not woken for them yet.
    deferred: std::sync::atomic::AtomicBool,
}

/// What waits, in order: runs of encoded frames and heavy frames between them.
enum Queued<F> {
    Encoded(BytesMut),
    Heavy(F),
}

struct QueueState<F> {
    items: std::collections::VecDeque<Queued<F>>,
    /// A buffer the writer gave back, for the next run of encoded frames.
    spare: Option<BytesMut>,
    senders: usize,
    /// No frame is taken any more.
    closed: bool,
}

/// A queue for frames to the peer: its senders, and the end its writer takes.
pub fn frame_queue<F: Frame>() -> (FrameSender<F>, FrameQueue<F>) {
    let queue = Arc::new(Queue {
        state: parking_lot::Mutex::new(QueueState {
            items: std::collections::VecDeque::new(),
            spare: None,
            senders: 1,
            closed: false,
        }),
        wake: tokio::sync::Notify::new(),
        deferred: std::sync::atomic::AtomicBool::new(false),
    });
    (FrameSender { queue: Arc::clone(&queue) }, FrameQueue { queue })
}

impl<F: Frame> FrameSender<F> {
    /// Queues `f` for the writer; false once the writer no longer takes frames.
    pub fn send(&self, f: F) -> bool {
        let first = self.enqueue(f);
        if first == Some(true) {
            // A permit if the writer is not waiting yet: it finds the frames when it looks.
            self.queue.wake.notify_one();
        }
        first.is_some()
    }

    /// Queues `f` like `send`, but leaves waking the writer to `wake_deferred`: a thread
    /// outside the writer's runtime (a worker's PHP thread running handlers) would wake it
    /// with a system call, where the same wake from inside the runtime is a local one.
    pub fn send_deferred(&self, f: F) -> bool {
        let first = self.enqueue(f);
        if first == Some(true) {
            self.queue.deferred.store(true, std::sync::atomic::Ordering::Release);
        }
        first.is_some()
    }

    /// Wakes the writer for what `send_deferred` queued since the last wake.
    pub fn wake_deferred(&self) {
        if self.queue.deferred.swap(false, std::sync::atomic::Ordering::AcqRel) {
            self.queue.wake.notify_one();
        }
    }

    /// Queues `f`: `Some(true)` when the queue was empty, `None` when closed.
    fn enqueue(&self, f: F) -> Option<bool> {
        let mut s = self.queue.state.lock();
        if s.closed {
            return None;
        }
        let first = s.items.is_empty();
        if f.heavy() {
            s.items.push_back(Queued::Heavy(f));
        } else {
            match s.items.back_mut() {
                Some(Queued::Encoded(b)) => f.encode(b),
                _ => {
                    let mut b = s.spare.take().unwrap_or_else(|| BytesMut::with_capacity(4096));
                    f.encode(&mut b);
                    s.items.push_back(Queued::Encoded(b));
                }
            }
        }
        Some(first)
    }
}

impl<F> Clone for FrameSender<F> {
    fn clone(&self) -> Self {
        self.queue.state.lock().senders += 1;
        Self { queue: Arc::clone(&self.queue) }
    }
}

impl<F> Drop for FrameSender<F> {
    /// The last sender gone lets the writer finish (after writing what is queued).
    fn drop(&mut self) {
        let mut s = self.queue.state.lock();
        s.senders -= 1;
        if s.senders == 0 {
            drop(s);
            self.queue.wake.notify_one();
        }
    }
}

impl<F> Drop for FrameQueue<F> {
    fn drop(&mut self) {
        let mut s = self.queue.state.lock();
        s.closed = true;
        s.items.clear();
    }
}

/// Writes every frame sent on `queue`'s senders, all that wait in one write. Ends when
/// every sender is gone (after writing what was queued) or the peer stops reading.
pub async fn write_frames<W: AsyncWrite + Unpin, F: Frame>(io: W, queue: FrameQueue<F>) -> io::Result<()> {
    write_frames_until(io, queue, std::future::pending(), None).await
}

/// `write_frames` that also ends when `close` resolves: what was queued by then is written
/// first and later sends fail, so a process that exits right after loses no frame it sent.
/// With `backlog`, the `broker_bytes` of every frame are taken off it once the frame is
/// written.
pub async fn write_frames_until<W: AsyncWrite + Unpin, F: Frame>(
    mut io: W,
    queue: FrameQueue<F>,
    close: impl std::future::Future<Output = ()>,
    backlog: Option<Arc<AtomicUsize>>,
) -> io::Result<()> {
    let q = &queue.queue;
    let mut batch = BytesMut::with_capacity(64 * 1024);
    let mut close = std::pin::pin!(close);
    let mut closing = false;
    loop {
        // What waits, up to the first heavy frames that fill a step: encoded runs are
        // taken whole (their bytes were copied once already), heavy frames encoded here.
        let (broker, last) = {
            let mut s = q.state.lock();
            // Closed under the same lock as the take: nothing can follow the last batch.
            s.closed |= closing;
            let mut broker = 0;
            while batch.len() < WRITE_STEP {
                match s.items.pop_front() {
                    Some(Queued::Encoded(mut b)) if batch.is_empty() => {
                        // Taken as it is; the writer's empty buffer goes to the senders.
                        std::mem::swap(&mut batch, &mut b);
                        s.spare = Some(b);
                    }
                    Some(Queued::Encoded(b)) => batch.extend_from_slice(&b),
                    Some(Queued::Heavy(f)) => {
                        f.encode(&mut batch);
                        broker += f.broker_bytes();
                    }
                    None => break,
                }
            }
            (broker, s.items.is_empty() && (s.closed || s.senders == 0))
        };
        if !batch.is_empty() {
            io.write_all(&batch).await?;
            if batch.capacity() > KEEP_BUFFER {
                batch = BytesMut::with_capacity(64 * 1024);
            } else {
                batch.clear();
            }
            if let (Some(b), true) = (&backlog, broker > 0) {
                b.fetch_sub(broker, Ordering::AcqRel);
            }
            continue;
        }
        if last {
            break;
        }
        tokio::select! {
            biased;
            () = q.wake.notified() => {}
            () = &mut close => closing = true,
        }
    }
    io.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    /// A plain request: no headers, no trace.
    fn request(
        method: Method,
        uri: &'static str,
        version: Version,
        (remote, local): (&str, &str),
        body: WireBody,
    ) -> ToLink {
        let head = RequestHead {
            id: 6,
            method,
            uri: Uri::from_static(uri),
            version,
            headers: Headers::default(),
            remote: remote.parse().unwrap(),
            local: local.parse().unwrap(),
            tls: version == Version::HTTP_2,
            trace: None,
        };
        ToLink::Request { request: Box::new(WireRequest { head, body }) }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v.as_bytes()).unwrap(),
            );
        }
        h
    }

    fn to_worker() -> Vec<ToWorker> {
        let link = [
            ToLink::Request {
                request: Box::new(WireRequest {
                    head: RequestHead {
                        id: 5,
                        method: Method::from_bytes(b"PURGE").unwrap(),
                        uri: Uri::from_static("/p?q=1"),
                        version: Version::HTTP_11,
                        // As via's HTTP/1.1 parser hands them over: sent from the head's bytes.
                        headers: Headers::parsed_for_tests(
                            "PURGE /p?q=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nX-Custom: \u{e9}\r\n\r\n",
                        ),
                        remote: "127.0.0.1:5".parse().unwrap(),
                        local: "127.0.0.1:80".parse().unwrap(),
                        tls: true,
                        trace: Some(Trace {
                            trace_id: [1; 16],
                            span_id: [2; 8],
                            parent_id: Some([3; 8]),
                            flags: 1,
                            given_request_id: Some("req-1".into()),
                        }),
                    },
                    body: WireBody::Multipart {
                        fields: vec![(b("f"), Bytes::from_static(b"\0\xff"))],
                        files: vec![WireFile {
                            field: b("up"),
                            name: b("a.txt"),
                            full_path: b("dir/a.txt"),
                            content_type: b("text/plain"),
                            path: b("/tmp/x"),
                            size: 3,
                            error: 0,
                        }],
                    },
                }),
            },
            request(
                Method::GET,
                "https://example.com:8443/a/b?c",
                Version::HTTP_2,
                ("[::1]:1", "[fe80::1%3]:2"),
                WireBody::Bytes(b("body")),
            ),
            request(Method::OPTIONS, "*", Version::HTTP_10, ("10.0.0.1:65535", "0.0.0.0:0"), WireBody::Empty),
            request(
                Method::CONNECT,
                "example.com:443",
                Version::HTTP_2,
                ("[::1]:9", "[::1]:443"),
                WireBody::Empty,
            ),
            ToLink::StreamClosed { stream: 1, cut_off: false },
            ToLink::StreamClosed { stream: 7, cut_off: true },
            ToLink::Credit { stream: 2, total: 3 },
            ToLink::Credit { stream: 3, total: u64::MAX },
            ToLink::TopicPublish { gather: 4, topic: b("room"), frame: b("data: z\n\n") },
            ToLink::TopicCount { gather: 5, topic: b("room") },
            ToLink::Report { gather: 6 },
        ];
        let app = [
            ToApp::Init { worker: 3, workers: 4, generation: 9, master_pid: 77, first_start: true },
            ToApp::Answer { seq: 4, value: 5 },
            ToApp::StatsAnswer { seq: 6, pairs: vec![(b("requests"), 7)] },
            ToApp::BrokerMessage { bus: 1, origin: 1, topic: b("t"), payload: b("p") },
            ToApp::BrokerState { bus: 1, connected: true },
            ToApp::BrokerError { bus: 1, text: b("e") },
            ToApp::Shutdown { server_stop: true },
        ];
        link.into_iter().map(ToWorker::from).chain(app.into_iter().map(ToWorker::from)).collect()
    }

    fn to_master() -> Vec<ToMaster> {
        let head = WireHead {
            status: StatusCode::CREATED,
            reason: Some(b("Made")),
            headers: headers(&[("x-a", "1"), ("x-a", "2"), ("set-cookie", "a=b")]).into(),
        };
        vec![
            ToMaster::Ready,
            ToMaster::Response { req: 1, head: head.clone(), body: b("hello") },
            ToMaster::StreamStart { req: 2, stream: 3, head, heartbeat_ms: 15000 },
            ToMaster::Chunk { stream: 3, data: b("data: x\n\n") },
            ToMaster::End { stream: 3 },
            ToMaster::Abort { stream: 4 },
            ToMaster::Join { stream: 3, topic: b("room") },
            ToMaster::Leave { stream: 3, topic: b("room") },
            ToMaster::Publish { seq: 8, topic: b("room"), frame: b("data: y\n\n") },
            ToMaster::Subscribers { seq: 9, topic: b("room") },
            ToMaster::BrokerSubscribe { bus: 0, topic: b("t") },
            ToMaster::BrokerUnsubscribe { bus: 0, topic: b("t") },
            ToMaster::BrokerPublish { bus: 2, topic: b("t"), payload: b("p") },
            ToMaster::Retire,
            ToMaster::Stats { pairs: vec![(b("sse_events"), 1)] },
            ToMaster::StatsQuery { seq: 10 },
            ToMaster::Counted { gather: 11, n: 12 },
        ]
    }

    /// The frame's body (without its length prefix).
    fn body(f: &impl Frame) -> Bytes {
        let mut buf = BytesMut::new();
        f.encode(&mut buf);
        let len = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
        assert_eq!(len, buf.len() - 4);
        buf.freeze().slice(4..)
    }

    #[test]
    fn every_frame_round_trips() {
        for f in to_worker() {
            assert_eq!(ToWorker::decode(body(&f)).unwrap(), f);
        }
        for f in to_master() {
            assert_eq!(ToMaster::decode(body(&f)).unwrap(), f);
        }
    }

    fn assert_malformed_are_errors<F: Frame + std::fmt::Debug>(frames: Vec<F>) {
        for f in frames {
            let body = body(&f);
            for cut in 0..body.len() {
                assert!(F::decode(body.slice(..cut)).is_err(), "{f:?} cut at {cut}");
            }
            let mut longer = BytesMut::from(&body[..]);
            longer.put_u8(0);
            assert!(F::decode(longer.freeze()).is_err());
        }
        assert!(F::decode(Bytes::from_static(&[200])).is_err());
    }

    #[test]
    fn malformed_frames_are_errors() {
        assert_malformed_are_errors(to_worker());
        assert_malformed_are_errors(to_master());
    }

    /// Every URI form keeps its parts across the link, as `Uri`'s accessors see them.
    #[test]
    fn uris_keep_their_parts() {
        for f in to_worker() {
            let ToWorker::Link(ToLink::Request { request }) = &f else { continue };
            let ToWorker::Link(ToLink::Request { request: back }) = ToWorker::decode(body(&f)).unwrap()
            else {
                unreachable!()
            };
            let (a, b) = (&request.head.uri, &back.head.uri);
            assert_eq!(
                (a.scheme_str(), a.authority().map(|x| x.as_str()), a.path(), a.query()),
                (b.scheme_str(), b.authority().map(|x| x.as_str()), b.path(), b.query()),
                "{a}"
            );
        }
    }

    /// More header names than a map can hold is an error, not a panic (the reader would
    /// die with it, and the requests its link carried with them).
    #[test]
    fn too_many_headers_are_an_error() {
        let mut d = BytesMut::new();
        let n = 40_000u32;
        d.put_u32_le(n);
        for i in 0..n {
            put_bytes(&mut d, format!("x-h{i}").as_bytes());
            put_bytes(&mut d, b"v");
        }
        let e = <HeaderMap as Wire>::get(&mut d.freeze()).unwrap_err();
        assert!(e.to_string().contains("headers"), "{e}");
    }

    /// A worker takes the fields as the frame's bytes when they are all valid; one that is
    /// not is skipped as before (the map is built then), and what follows reads the same.
    #[test]
    fn fields_come_as_the_frames_bytes_or_else_as_a_map() {
        let encode = |pairs: &[(&[u8], &[u8])]| {
            let mut d = BytesMut::new();
            d.put_u8(PAIRS);
            d.put_u32_le(pairs.len() as u32);
            for (k, v) in pairs {
                put_bytes(&mut d, k);
                put_bytes(&mut d, v);
            }
            d.put_u8(0xAB); // the next field of the frame
            d.freeze()
        };
        let mut d = encode(&[(b"Host", b"h"), (b"x-a", b"1"), (b"X-A", b"2")]);
        let h = <Headers as Wire>::get(&mut d).unwrap();
        assert_eq!(d[..], [0xAB]);
        assert_eq!(h.all(&HeaderName::from_static("x-a")).collect::<Vec<_>>(), [b"1", b"2"]);
        assert_eq!(h.len(), 3);
        let mut d = encode(&[(b"host", b"h"), (b"x-bad", b"a\r\nb"), (b"bad name", b"v")]);
        let h = <Headers as Wire>::get(&mut d).unwrap();
        assert_eq!(d[..], [0xAB]);
        assert_eq!(h.len(), 1, "the invalid fields are skipped");
        assert_eq!(h.first_bytes(&http::header::HOST), Some(&b"h"[..]));
    }

    /// Fields as via's HTTP/1.1 parser found them cross as the head's bytes and spans, and
    /// come out as they went in; a damaged block keeps only the fields that are valid and
    /// inside it, and spans cut short are an error.
    #[test]
    fn a_head_s_fields_cross_as_its_block_and_spans() {
        let h = Headers::parsed_for_tests("GET /p HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nX-E:\r\n\r\n");
        let mut b = BytesMut::new();
        h.put(&mut b);
        b.put_u8(0xAB);
        assert_eq!(b[0], BLOCK);
        let mut d = b.freeze();
        let back = <Headers as Wire>::get(&mut d).unwrap();
        assert_eq!(d[..], [0xAB]);
        let (block, _) = back.block().expect("taken as the block it came as");
        assert_eq!(block[..], b"Host: h\r\nX-A: 1\r\nx-a: 2\r\nX-E:"[..], "the fields only");
        let fields = |h: &Headers| {
            let mut all = Vec::new();
            h.each(|n, v| all.push((n.to_vec(), v.to_vec())));
            all
        };
        assert_eq!(fields(&back), fields(&h));
        assert_eq!(back.all(&HeaderName::from_static("x-a")).collect::<Vec<_>>(), [b"1", b"2"]);

        let encode = |block: &'static [u8], spans: &[(u16, u16, u16, u16)], n: u16| {
            let mut d = BytesMut::new();
            d.put_u8(BLOCK);
            put_bytes(&mut d, block);
            d.put_u16_le(n);
            for &(a, b, c, e) in spans {
                for x in [a, b, c, e] {
                    d.put_u16_le(x);
                }
            }
            d.freeze()
        };
        let block = b"hostxbad namea\r\nb";
        // host: x, then a name with a space, a value with CR LF, and a span past the block.
        let spans = [(0, 4, 4, 1), (5, 8, 4, 1), (0, 4, 13, 4), (0, 4, 16, 9)];
        let h = <Headers as Wire>::get(&mut encode(block, &spans, 4)).unwrap();
        assert_eq!(h.len(), 1, "only the valid field inside the block is kept");
        assert_eq!(h.first_bytes(&http::header::HOST), Some(&b"x"[..]));
        assert!(<Headers as Wire>::get(&mut encode(block, &spans[..1], 2)).is_err(), "spans cut short");
        // Many fields over the same bytes: a map of them is built without a panic; past
        // MAX_BLOCK_FIELDS the frame is an error.
        let many = vec![(0, 4, 4, 1); MAX_BLOCK_FIELDS];
        let h = <Headers as Wire>::get(&mut encode(block, &many, MAX_BLOCK_FIELDS as u16)).unwrap();
        assert_eq!(h.map().len(), MAX_BLOCK_FIELDS);
        let more = vec![(0, 4, 4, 1); MAX_BLOCK_FIELDS + 1];
        assert!(<Headers as Wire>::get(&mut encode(block, &more, MAX_BLOCK_FIELDS as u16 + 1)).is_err());
    }

    /// A frame read by the end it was not meant for is a protocol error, not a frame to
    /// ignore.
    #[test]
    fn a_frame_of_the_other_direction_is_an_error() {
        for f in to_worker() {
            let e = ToMaster::decode(body(&f)).unwrap_err();
            assert!(e.to_string().contains("not one the master reads"), "{f:?}: {e}");
        }
        for f in to_master() {
            let e = ToWorker::decode(body(&f)).unwrap_err();
            assert!(e.to_string().contains("not one a worker reads"), "{f:?}: {e}");
        }
    }

    async fn assert_moved_in_order<F: Frame + Clone + std::fmt::Debug + PartialEq + Send + 'static>(
        frames: Vec<F>,
    ) {
        let (a, b_end) = tokio::net::UnixStream::pair().unwrap();
        let (tx, rx) = frame_queue();
        let writer = tokio::spawn(write_frames(a, rx));
        for f in frames.clone() {
            assert!(tx.send(f));
        }
        drop(tx);
        let mut r = FrameReader::<_, F>::new(b_end);
        for f in frames {
            assert_eq!(r.next().await.unwrap(), Some(f));
        }
        assert_eq!(r.next().await.unwrap(), None);
        writer.await.unwrap().unwrap();
    }

    /// Frames sent while the writer writes go in its next batch; the backlog counts every
    /// broker message's bytes off once written; a writer whose peer left refuses sends.
    #[tokio::test]
    async fn the_writer_takes_what_was_sent_meanwhile_and_counts_the_backlog_down() {
        let (a, b_end) = tokio::net::UnixStream::pair().unwrap();
        let (tx, rx) = frame_queue::<ToWorker>();
        let backlog = Arc::new(AtomicUsize::new(0));
        let writer =
            tokio::spawn(write_frames_until(a, rx, std::future::pending(), Some(Arc::clone(&backlog))));
        let message = |n: u64| {
            ToWorker::from(ToApp::BrokerMessage {
                bus: 1,
                origin: 0,
                topic: b("topic"),
                payload: Bytes::from(vec![b'x'; 1000 + (n % 100) as usize]),
            })
        };
        let mut r = FrameReader::<_, ToWorker>::new(b_end);
        // Light frames (encoded as sent) between heavy ones (encoded by the writer, in
        // steps of `WRITE_STEP`): one order. 1,500 messages of ~1 KiB a burst: two steps.
        let light = |n: u64| ToWorker::from(ToLink::Credit { stream: n, total: n });
        for round in 0..3u64 {
            // Sent in bursts, so some land while the last batch is being written.
            for n in round * 1500..(round + 1) * 1500 {
                let f = message(n);
                backlog.fetch_add(f.broker_bytes(), Ordering::AcqRel);
                assert!(f.heavy() && !light(n).heavy());
                assert!(tx.send(f));
                assert!(tx.send(light(n)));
            }
            for n in round * 1500..(round + 1) * 1500 {
                assert_eq!(r.next().await.unwrap(), Some(message(n)));
                assert_eq!(r.next().await.unwrap(), Some(light(n)));
            }
        }
        // Read to the end: every batch was written, so the backlog is down to nothing.
        drop(tx);
        assert_eq!(r.next().await.unwrap(), None);
        writer.await.unwrap().unwrap();
        assert_eq!(backlog.load(Ordering::Acquire), 0);

        // A peer that is gone: the write fails, the writer ends, and sends say so.
        let (a, b_end) = tokio::net::UnixStream::pair().unwrap();
        drop(b_end);
        let (tx, rx) = frame_queue::<ToWorker>();
        let writer = tokio::spawn(write_frames(a, rx));
        assert!(tx.send(message(0)));
        assert!(writer.await.unwrap().is_err(), "writing to a closed peer fails");
        assert!(!tx.send(message(1)), "a writer that ended takes no frame");
    }

    /// Frames sent deferred wait in the queue until `wake_deferred`, which takes them all
    /// in one batch; a plain send still wakes the writer at once.
    #[tokio::test]
    async fn deferred_frames_wait_for_their_wake() {
        let (a, b_end) = tokio::net::UnixStream::pair().unwrap();
        let (tx, rx) = frame_queue::<ToWorker>();
        let queue = Arc::clone(&rx.queue);
        let writer = tokio::spawn(write_frames(a, rx));
        let light = |n: u64| ToWorker::from(ToLink::Credit { stream: n, total: n });
        let let_the_writer_run = || async {
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
        };
        let_the_writer_run().await;
        assert!(tx.send_deferred(light(1)));
        assert!(tx.send_deferred(light(2)));
        let_the_writer_run().await;
        assert_eq!(queue.state.lock().items.len(), 1, "one run of both, not taken before the wake");
        tx.wake_deferred();
        let mut r = FrameReader::<_, ToWorker>::new(b_end);
        assert_eq!(r.next().await.unwrap(), Some(light(1)));
        assert_eq!(r.next().await.unwrap(), Some(light(2)));
        tx.wake_deferred(); // nothing deferred: nothing to do
        assert!(tx.send(light(3)));
        assert_eq!(r.next().await.unwrap(), Some(light(3)));
        drop(tx);
        assert_eq!(r.next().await.unwrap(), None);
        writer.await.unwrap().unwrap();
    }

    /// Frames a queue keeps as values for its writer: broker messages (whatever their
    /// size: they count against a backlog) and frames with a payload over `HEAVY` bytes.
    #[test]
    fn heavy_frames_are_the_counted_and_the_large_ones() {
        let big = Bytes::from(vec![b'x'; HEAVY + 1]);
        let small = Bytes::from(vec![b'x'; HEAVY]);
        let req = |body| {
            ToWorker::from(request(Method::POST, "/", Version::HTTP_11, ("1.2.3.4:5", "6.7.8.9:10"), body))
        };
        assert!(req(WireBody::Bytes(big.clone())).heavy());
        assert!(!req(WireBody::Bytes(small.clone())).heavy());
        assert!(!req(WireBody::Empty).heavy());
        let message =
            ToWorker::from(ToApp::BrokerMessage { bus: 0, origin: 0, topic: b("t"), payload: b("p") });
        assert!(message.heavy());
        assert!(ToMaster::Chunk { stream: 1, data: big.clone() }.heavy());
        assert!(!ToMaster::Chunk { stream: 1, data: small.clone() }.heavy());
        assert!(ToMaster::Response {
            req: 1,
            head: WireHead { status: StatusCode::OK, reason: None, headers: HeaderList::new() },
            body: big
        }
        .heavy());
        assert!(!ToMaster::End { stream: 1 }.heavy());
    }

    #[tokio::test]
    async fn reader_and_writer_move_frames_in_order() {
        assert_moved_in_order(to_worker()).await;
        assert_moved_in_order(to_master()).await;
    }

    /// Frames that arrived in one read are not all handed out in one poll: the reading
    /// task yields now and then, so other tasks of its runtime thread keep running.
    #[tokio::test]
    async fn a_reader_yields_between_buffered_frames() {
        const FRAMES: u64 = 4000; // 13 bytes each: all in the socket buffer, one or two reads
        let (a, b_end) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut bytes = BytesMut::new();
        for stream in 0..FRAMES {
            ToMaster::End { stream }.encode(&mut bytes);
        }
        std::io::Write::write_all(&mut &a, &bytes).unwrap();
        b_end.set_nonblocking(true).unwrap();
        let mut r = FrameReader::new(tokio::net::UnixStream::from_std(b_end).unwrap());
        // On this current-thread runtime the ticker runs only when the reader yields.
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = {
            let ticks = Arc::clone(&ticks);
            tokio::spawn(async move {
                loop {
                    ticks.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                }
            })
        };
        assert_eq!(r.next().await.unwrap(), Some(ToMaster::End { stream: 0 }));
        let first = ticks.load(Ordering::Relaxed);
        for stream in 1..FRAMES {
            assert_eq!(r.next().await.unwrap(), Some(ToMaster::End { stream }));
        }
        let during = ticks.load(Ordering::Relaxed) - first;
        ticker.abort();
        assert!(during >= 10, "other tasks ran {during} times while {FRAMES} buffered frames were read");
    }

    #[tokio::test]
    async fn closing_the_writer_writes_what_was_queued_first() {
        let (a, b_end) = tokio::net::UnixStream::pair().unwrap();
        let (tx, rx) = frame_queue();
        let (close_tx, close) = tokio::sync::oneshot::channel::<()>();
        for f in to_worker() {
            assert!(tx.send(f));
        }
        close_tx.send(()).unwrap();
        // A sender still alive (as in a worker about to exit) must not keep it open.
        let writer = tokio::spawn(write_frames_until(
            a,
            rx,
            async {
                let _ = close.await;
            },
            None,
        ));
        let mut r = FrameReader::<_, ToWorker>::new(b_end);
        for f in to_worker() {
            assert_eq!(r.next().await.unwrap(), Some(f));
        }
        assert_eq!(r.next().await.unwrap(), None);
        writer.await.unwrap().unwrap();
        assert!(!tx.send(ToApp::Shutdown { server_stop: false }.into()), "closed for senders");
    }
}
