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
//! - At most one `Date`: the application's last one, else the runtime's.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode};

use super::exchange::ResponseBodySource;

/// Whether a response with `status` may have a body.
pub fn status_allows_body(status: StatusCode) -> bool {
    !(status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED)
}

/// Brings the application's headers in line with the rules above. `head_without_body`: the
/// request was `HEAD` and the application sent no body, so its `Content-Length` stays.
pub fn prepare_headers(status: StatusCode, headers: &mut HeaderMap, head_without_body: bool) {
    headers.remove(TRANSFER_ENCODING);
    if !head_without_body || !status_allows_body(status) {
        headers.remove(CONTENT_LENGTH);
    }
    if headers.get_all(DATE).iter().nth(1).is_some() {
        if let Some(last) = headers.get_all(DATE).iter().next_back().cloned() {
            headers.insert(DATE, last);
        }
    }
}

/// The body to send for `status`: the application's, or none for a status that has none
/// (a stream is then ended at once, which tells its writer the stream closed).
pub fn body_for(status: StatusCode, body: ResponseBodySource) -> ResponseBodySource {
    if status_allows_body(status) {
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
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn framing_headers_of_the_application_are_removed() {
        let mut h = headers(&[("content-length", "5"), ("transfer-encoding", "chunked"), ("x-a", "b")]);
        prepare_headers(StatusCode::OK, &mut h, false);
        assert_eq!(h.len(), 1);
        assert_eq!(h["x-a"], "b");
    }

    #[test]
    fn a_head_response_keeps_its_declared_length() {
        let mut h = headers(&[("content-length", "1234")]);
        prepare_headers(StatusCode::OK, &mut h, true);
        assert_eq!(h["content-length"], "1234");
        prepare_headers(StatusCode::NO_CONTENT, &mut h, true);
        assert!(!h.contains_key("content-length"), "never on a 204");
    }

    #[test]
    fn one_date_the_last_set() {
        let mut h = headers(&[("date", "a"), ("date", "b")]);
        prepare_headers(StatusCode::OK, &mut h, false);
        assert_eq!(h.get_all("date").iter().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn statuses_without_a_body() {
        for (code, body) in [(100, false), (200, true), (204, false), (205, true), (304, false), (404, true)]
        {
            assert_eq!(status_allows_body(StatusCode::from_u16(code).unwrap()), body, "{code}");
        }
    }
}
