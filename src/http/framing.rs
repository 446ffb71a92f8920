//! The framing rules of a response, shared by both writers: hyper's (every connection but
//! one) and `stream_conn`'s (a plain event-stream GET). The same PHP calls must give the
//! same bytes on the wire whichever writer sends them.
//!
//! Owns: which headers the application may not set (the runtime frames the body it is
//! given), which statuses carry no body, and one `Date`.
//! Does not own: compression (`encoding::choose_coding`) or the writing itself.
//!
//! The rules (RFC 9110 §6.4.1, §8.6; RFC 9112 §6):
//! - `Content-Length` and `Transfer-Encoding` set by the application are removed. A whole
//!   body is sent with the length the runtime counts; a streamed body is chunked (HTTP/1.1)
//!   or DATA frames (HTTP/2). A length that the application declares could only be wrong
//!   (a body cut short, or a connection whose next response is read from our body bytes).
//!   The one exception is a response to `HEAD` with no body: its `Content-Length` says
//!   what a `GET` would have sent, and nothing follows it.
//! - 1xx, 204 and 304 responses carry no body, no `Transfer-Encoding` and no
//!   `Content-Length` (not even on a `HEAD`). Whatever body the application gave is dropped
//!   (a stream is reported closed to its writer).
//! - 205 carries no body either, but is framed with `Content-Length: 0`, on a `HEAD` too.
//! - At most one `Date`: the application's last one, else the runtime's.

use bytes::Bytes;
use http::header::{
    CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, DATE, TRANSFER_ENCODING, VARY,
};
use http::StatusCode;

use super::exchange::ResponseBodySource;
use super::header_list::HeaderList;

/// Whether a response with `status` may have a body.
pub fn status_allows_body(status: StatusCode) -> bool {
    !(status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED)
}

/// What one pass over an answer's headers found. Framing, coding and the HTTP/1.1 writers
/// decide from these instead of a lookup each (every lookup hashes the name; `shape` runs
/// once per answer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderFacts {
    pub transfer_encoding: bool,
    pub content_length: bool,
    /// How many `Date`s (counted up to 2).
    pub dates: u8,
    pub content_encoding: bool,
    /// The first `Content-Type` names a type worth compressing.
    pub compressible: bool,
    /// A `Vary` already names `Accept-Encoding` (or `*`).
    pub varies_on_coding: bool,
    /// A `Connection` asks to close the connection after this answer.
    pub close: bool,
}

impl HeaderFacts {
    pub fn of(headers: &HeaderList) -> Self {
        let mut facts = Self::default();
        let mut typed = false;
        for (name, value) in headers {
            if name == CONTENT_TYPE {
                if !typed {
                    facts.compressible = super::encoding::is_compressible(Some(value));
                    typed = true;
                }
            } else if name == DATE {
                facts.dates = (facts.dates + 1).min(2);
            } else if name == VARY {
                facts.varies_on_coding |= super::encoding::varies_on_coding(value);
            } else if name == CONNECTION {
                facts.close |= value
                    .as_bytes()
                    .split(|&b| b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
            } else if name == CONTENT_LENGTH {
                facts.content_length = true;
            } else if name == TRANSFER_ENCODING {
                facts.transfer_encoding = true;
            } else if name == CONTENT_ENCODING {
                facts.content_encoding = true;
            }
        }
        facts
    }
}

/// Brings the application's headers in line with the rules above (`facts`: what they
/// hold). `head_without_body`: the request was `HEAD` and the application sent no body, so
/// its `Content-Length` stays.
pub fn prepare_headers(
    status: StatusCode,
    headers: &mut HeaderList,
    head_without_body: bool,
    facts: &HeaderFacts,
) {
    if facts.transfer_encoding {
        headers.remove(&TRANSFER_ENCODING);
    }
    // A HEAD answer keeps the length PHP declared, unless its status has no body (205
    // is framed with a length of 0).
    let declared_kept =
        head_without_body && status_allows_body(status) && status != StatusCode::RESET_CONTENT;
    if facts.content_length && !declared_kept {
        headers.remove(&CONTENT_LENGTH);
    }
    if facts.dates > 1 {
        let last = headers.get_all(&DATE).next_back().cloned();
        if let Some(last) = last {
            headers.insert(DATE, last);
        }
    }
}

/// The body to send for `status`: the application's, or none for a status that has none
/// (a stream is then ended at once, which tells its writer the stream closed). 205 (Reset
/// Content) has none either, but is framed, with `Content-Length: 0` (RFC 9110 §15.3.6):
/// an empty body of the length its writer counts.
pub fn body_for(status: StatusCode, body: ResponseBodySource) -> ResponseBodySource {
    if status_allows_body(status) && status != StatusCode::RESET_CONTENT {
        return body;
    }
    if let ResponseBodySource::Stream { stream, .. } = body {
        drop(stream.body());
    }
    ResponseBodySource::Full(Bytes::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderList {
        let mut h = HeaderList::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn prepare(status: StatusCode, h: &mut HeaderList, head_without_body: bool) {
        let facts = HeaderFacts::of(h);
        prepare_headers(status, h, head_without_body, &facts);
    }

    #[test]
    fn framing_headers_of_the_application_are_removed() {
        let mut h = headers(&[("content-length", "5"), ("transfer-encoding", "chunked"), ("x-a", "b")]);
        prepare(StatusCode::OK, &mut h, false);
        assert_eq!(h.len(), 1);
        assert_eq!(h.get(&HeaderName::from_static("x-a")).unwrap(), "b");
    }

    #[test]
    fn a_head_response_keeps_its_declared_length() {
        let mut h = headers(&[("content-length", "1234")]);
        prepare(StatusCode::OK, &mut h, true);
        assert_eq!(h.get(&CONTENT_LENGTH).unwrap(), "1234");
        prepare(StatusCode::NO_CONTENT, &mut h, true);
        assert!(!h.contains_key(&CONTENT_LENGTH), "never on a 204");
        let mut h = headers(&[("content-length", "1234")]);
        prepare(StatusCode::RESET_CONTENT, &mut h, true);
        assert!(!h.contains_key(&CONTENT_LENGTH), "a 205's is the runtime's 0");
    }

    #[test]
    fn one_pass_finds_what_framing_and_coding_decide_by() {
        let h = headers(&[
            ("content-type", "TEXT/html; charset=utf-8"),
            ("content-type", "image/png"),
            ("vary", "Cookie"),
            ("vary", "origin, Accept-Encoding"),
            ("connection", "keep-alive, Close"),
            ("date", "a"),
            ("date", "b"),
            ("date", "c"),
            ("x-a", "close"),
        ]);
        let facts = HeaderFacts::of(&h);
        let expected = HeaderFacts {
            transfer_encoding: false,
            content_length: false,
            dates: 2,
            content_encoding: false,
            compressible: true,
            varies_on_coding: true,
            close: true,
        };
        assert_eq!(facts, expected, "the first Content-Type counts, as a lookup would give");
        let h = headers(&[
            ("content-type", "image/png"),
            ("content-type", "text/html"),
            ("content-length", "3"),
            ("transfer-encoding", "chunked"),
            ("content-encoding", "br"),
            ("vary", "accept-encodings"),
            ("connection", "keep-alive"),
        ]);
        let expected = HeaderFacts {
            transfer_encoding: true,
            content_length: true,
            dates: 0,
            content_encoding: true,
            compressible: false,
            varies_on_coding: false,
            close: false,
        };
        assert_eq!(HeaderFacts::of(&h), expected);
        assert_eq!(HeaderFacts::of(&HeaderList::new()), HeaderFacts::default());
    }

    #[test]
    fn one_date_the_last_set() {
        let mut h = headers(&[("date", "a"), ("date", "b")]);
        prepare(StatusCode::OK, &mut h, false);
        assert_eq!(h.get_all(&DATE).collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn statuses_without_a_body() {
        for (code, body) in [(100, false), (200, true), (204, false), (205, true), (304, false), (404, true)]
        {
            assert_eq!(status_allows_body(StatusCode::from_u16(code).unwrap()), body, "{code}");
        }
    }
}
