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
        match d.iter().position(|&c| c == b'\n' || c == b'\r') {
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
    let mut out = BytesMut::with_capacity(data.len() + 32);
    if let Some(e) = event {
        out.put_slice(b"event: ");
        out.put_slice(e);
        out.put_u8(b'\n');
    }
    if let Some(i) = id {
        out.put_slice(b"id: ");
        out.put_slice(i);
        out.put_u8(b'\n');
    }
    if let Some(r) = retry_ms {
        out.put_slice(format!("retry: {r}\n").as_bytes());
    }
    for line in lines(data) {
        out.put_slice(b"data: ");
        out.put_slice(line);
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    Ok(out.freeze())
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
    fn comments() {
        assert_eq!(&format_comment(b"keep")[..], b": keep\n\n");
        assert_eq!(&format_comment(b"a\nb")[..], b": a\n: b\n\n");
        assert_eq!(&format_retry(1500)[..], b"retry: 1500\n\n");
    }
}
