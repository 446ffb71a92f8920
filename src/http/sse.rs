//! Server-Sent Events framing (WHATWG HTML §9.2): events, comments, the heartbeat.
//!
//! Pure: builds the bytes of one event. Multi-line data becomes one `data:` line per line,
//! whatever the line breaks (CRLF, LF, CR); an event name or id that contains a line
//! break would end the field early and let a client inject fields, so it is an error.

use bytes::{BufMut, Bytes, BytesMut};

/// What a heartbeat sends: a comment, ignored by EventSource, that keeps proxies and the
/// connection from timing out.
pub const HEARTBEAT: &[u8] = b": ping\n\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// The event name contains CR or LF.
    EventName,
    /// The id contains CR, LF or NUL (browsers ignore ids with NUL).
    Id,
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EventName => f.write_str("the event name must not contain CR or LF"),
            Self::Id => f.write_str("the id must not contain CR, LF or NUL"),
        }
    }
}

impl std::error::Error for SseError {}

/// Splits on CRLF, LF or CR, as the EventSource parser does.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let d = rest?;
        // memchr's word-at-a-time search: an element patch is kilobytes of HTML with few
        // line breaks, and a byte-by-byte scan of it was most of a send's own work.
        match memchr::memchr2(b'\n', b'\r', d) {
            None => {
                rest = None;
                Some(d)
            }
            Some(i) => {
                let skip = if d[i] == b'\r' && d.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                rest = Some(&d[i + skip..]);
                Some(&d[..i])
            }
        }
    })
}

/// One event: `event:`, `id:`, `retry:` when given, then `data:` lines, then a blank line.
pub fn format_event(
    data: &[u8],
    event: Option<&[u8]>,
    id: Option<&[u8]>,
    retry_ms: Option<u64>,
) -> Result<Bytes, SseError> {
    if event.is_some_and(|e| e.iter().any(|&c| c == b'\n' || c == b'\r')) {
        return Err(SseError::EventName);
    }
    if id.is_some_and(|i| i.iter().any(|&c| c == b'\n' || c == b'\r' || c == 0)) {
        return Err(SseError::Id);
    }
    let fields = event.map_or(0, |e| e.len() + 8) + id.map_or(0, |i| i.len() + 5);
    let mut out = Vec::with_capacity(data.len() + fields + 32);
    let mut field = |name: &[u8], value: &[u8]| {
        out.extend_from_slice(name);
        out.extend_from_slice(value);
        out.push(b'\n');
    };
    if let Some(e) = event {
        field(b"event: ", e);
    }
    if let Some(i) = id {
        field(b"id: ", i);
    }
    if let Some(r) = retry_ms {
        field(b"retry: ", crate::http::answer::itoa_buf(r).as_slice());
    }
    for line in lines(data) {
        field(b"data: ", line);
    }
    out.push(b'\n');
    Ok(Bytes::from(out))
}

/// Frames of at most this many bytes are kept by `EventMemo` for the next events.
const MEMO_MAX: usize = 64 * 1024;

/// The frames of the last two events formatted, for a loop that sends one event to many
/// streams: each send after the first finds its fields equal to those of a frame kept and
/// takes that frame, instead of formatting and allocating a new one, and every stream's
/// queue holds the same bytes. Two, because an update often sends two events to each
/// stream in turn (a Datastar tab's elements, then its signals: the framework's
/// `Context::flush`).
#[derive(Default)]
pub struct EventMemo {
    kept: [Kept; 2],
    /// The slot the next new frame replaces (the other holds the newest).
    next: usize,
}

/// A frame and the fields it was made of (which passed `format_event`'s checks), compared
/// as they came: one comparison of the data, not a search of it for line breaks.
#[derive(Default)]
struct Kept {
    frame: Bytes,
    /// The event name, the id and the data, one after the other; its room is reused.
    fields: Vec<u8>,
    event_end: usize,
    id_end: usize,
    has_event: bool,
    has_id: bool,
    retry_ms: Option<u64>,
}

impl Kept {
    const EMPTY: Self = Self {
        frame: Bytes::new(),
        fields: Vec::new(),
        event_end: 0,
        id_end: 0,
        has_event: false,
        has_id: false,
        retry_ms: None,
    };

    fn is(&self, data: &[u8], event: Option<&[u8]>, id: Option<&[u8]>, retry_ms: Option<u64>) -> bool {
        !self.frame.is_empty()
            && self.has_event == event.is_some()
            && self.has_id == id.is_some()
            && self.retry_ms == retry_ms
            && self.fields.len() - self.id_end == data.len()
            && self.fields[..self.event_end] == *event.unwrap_or_default()
            && self.fields[self.event_end..self.id_end] == *id.unwrap_or_default()
            && self.fields[self.id_end..] == *data
    }

    fn keep(
        &mut self,
        frame: Bytes,
        data: &[u8],
        event: Option<&[u8]>,
        id: Option<&[u8]>,
        retry_ms: Option<u64>,
    ) {
        self.fields.clear();
        self.fields.extend_from_slice(event.unwrap_or_default());
        self.event_end = self.fields.len();
        self.fields.extend_from_slice(id.unwrap_or_default());
        self.id_end = self.fields.len();
        self.fields.extend_from_slice(data);
        (self.has_event, self.has_id, self.retry_ms) = (event.is_some(), id.is_some(), retry_ms);
        self.frame = frame;
    }
}

impl EventMemo {
    pub const fn new() -> Self {
        Self { kept: [Kept::EMPTY, Kept::EMPTY], next: 0 }
    }

    /// Lets go of the frames and their fields.
    pub fn clear(&mut self) {
        self.kept = [Kept::EMPTY, Kept::EMPTY];
    }

    /// `format_event`, or a frame kept when it is this event's.
    pub fn frame(
        &mut self,
        data: &[u8],
        event: Option<&[u8]>,
        id: Option<&[u8]>,
        retry_ms: Option<u64>,
    ) -> Result<Bytes, SseError> {
        for kept in [&self.kept[self.next ^ 1], &self.kept[self.next]] {
            if kept.is(data, event, id, retry_ms) {
                return Ok(kept.frame.clone());
            }
        }
        let frame = format_event(data, event, id, retry_ms)?;
        if frame.len() <= MEMO_MAX {
            self.kept[self.next].keep(frame.clone(), data, event, id, retry_ms);
            self.next ^= 1;
        }
        Ok(frame)
    }
}

/// A comment (`: text`), one per line of `text`.
pub fn format_comment(text: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(text.len() + 8);
    for line in lines(text) {
        out.put_slice(b": ");
        out.put_slice(line);
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// Only a `retry:` field, to tell clients how long to wait before reconnecting.
pub fn format_retry(retry_ms: u64) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(data: &str, event: Option<&str>, id: Option<&str>, retry: Option<u64>) -> String {
        let b =
            format_event(data.as_bytes(), event.map(str::as_bytes), id.map(str::as_bytes), retry).unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn single_and_multi_line_data() {
        assert_eq!(ev("hello", None, None, None), "data: hello\n\n");
        assert_eq!(ev("a\nb\r\nc\rd", None, None, None), "data: a\ndata: b\ndata: c\ndata: d\n\n");
        assert_eq!(ev("", None, None, None), "data: \n\n");
        assert_eq!(ev("end\n", None, None, None), "data: end\ndata: \n\n");
    }

    #[test]
    fn fields_in_order() {
        assert_eq!(
            ev("x", Some("update"), Some("42"), Some(3000)),
            "event: update\nid: 42\nretry: 3000\ndata: x\n\n"
        );
    }

    #[test]
    fn newlines_in_name_or_id_are_rejected() {
        assert_eq!(format_event(b"x", Some(b"a\nb"), None, None), Err(SseError::EventName));
        assert_eq!(format_event(b"x", Some(b"a\rb"), None, None), Err(SseError::EventName));
        assert_eq!(format_event(b"x", None, Some(b"1\n2"), None), Err(SseError::Id));
        assert_eq!(format_event(b"x", None, Some(b"1\x002"), None), Err(SseError::Id));
    }

    #[test]
    fn the_memo_gives_the_last_frame_for_the_same_event_only() {
        let mut memo = EventMemo::default();
        let a = memo.frame(b"x\ny", Some(b"patch"), None, None).unwrap();
        let again = memo.frame(b"x\ny", Some(b"patch"), None, None).unwrap();
        assert_eq!(again.as_ptr(), a.as_ptr(), "the same bytes, not a copy");
        // Any field that differs makes a new frame, equal to what format_event makes.
        type Event<'a> = (&'a [u8], Option<&'a [u8]>, Option<&'a [u8]>, Option<u64>);
        let others: [Event<'_>; 8] = [
            (b"x\ny", Some(b"patch"), None, Some(5)),
            (b"x\ny", Some(b"patch"), Some(b"1"), None),
            (b"x\ny", Some(b"patcH"), None, None),
            (b"x\ny", None, None, None),
            (b"x\ny\n", Some(b"patch"), None, None),
            (b"x\r\ny", Some(b"patch"), None, None), // the same lines: the same frame
            (b"x", Some(b"patch"), None, None),
            (b"", None, None, None),
        ];
        for (data, event, id, retry) in others {
            let got = memo.frame(data, event, id, retry).unwrap();
            assert_eq!(
                got,
                format_event(data, event, id, retry).unwrap(),
                "{data:?} {event:?} {id:?} {retry:?}"
            );
            assert_eq!(memo.frame(data, event, id, retry).unwrap().as_ptr(), got.as_ptr());
        }
        // Bad fields are refused even when the bytes would match the last frame.
        memo.frame(b"x", Some(b"a"), None, None).unwrap();
        assert_eq!(memo.frame(b"x", Some(b"a\n"), None, None), Err(SseError::EventName));
        assert_eq!(memo.frame(b"x", None, Some(b"\0"), None), Err(SseError::Id));
        // A frame past MEMO_MAX is not kept.
        let big = vec![b'z'; MEMO_MAX];
        let first = memo.frame(&big, None, None, None).unwrap();
        assert_ne!(memo.frame(&big, None, None, None).unwrap().as_ptr(), first.as_ptr());
    }

    #[test]
    fn the_memo_keeps_two_events_sent_in_turn() {
        let mut memo = EventMemo::default();
        let elements =
            memo.frame(b"elements <p>1</p>", Some(b"datastar-patch-elements"), None, None).unwrap();
        let signals = memo.frame(b"signals {\"n\":1}", Some(b"datastar-patch-signals"), None, None).unwrap();
        // Each stream in turn gets both: the same two frames every time.
        for _ in 0..3 {
            let e = memo.frame(b"elements <p>1</p>", Some(b"datastar-patch-elements"), None, None).unwrap();
            let s = memo.frame(b"signals {\"n\":1}", Some(b"datastar-patch-signals"), None, None).unwrap();
            assert_eq!((e.as_ptr(), s.as_ptr()), (elements.as_ptr(), signals.as_ptr()));
        }
        // A third event replaces the older of the two.
        let third = memo.frame(b"x", None, None, None).unwrap();
        assert_eq!(memo.frame(b"x", None, None, None).unwrap().as_ptr(), third.as_ptr());
        let s = memo.frame(b"signals {\"n\":1}", Some(b"datastar-patch-signals"), None, None).unwrap();
        assert_eq!(s.as_ptr(), signals.as_ptr(), "the newer of the two is kept");
        let e = memo.frame(b"elements <p>1</p>", Some(b"datastar-patch-elements"), None, None).unwrap();
        assert_ne!(e.as_ptr(), elements.as_ptr(), "the older was replaced");
        assert_eq!(e, elements);
    }

    #[test]
    fn comments() {
        assert_eq!(&format_comment(b"keep")[..], b": keep\n\n");
        assert_eq!(&format_comment(b"a\nb")[..], b": a\n: b\n\n");
        assert_eq!(&format_retry(1500)[..], b"retry: 1500\n\n");
    }
}
