//! W3C trace context (`traceparent`) and `X-Request-Id` of one request.
//!
//! Owns: parsing an incoming `traceparent` (accepted only in the version-00 form of the W3C
//! Trace Context spec, which later versions extend; anything else is replaced, never
//! trusted), this
//! server's span, and the request id (the client's `X-Request-Id` when it is a short token,
//! else the trace id).
//!
//! Plain data, no I/O; used by the access log on Tokio threads and by `Via\Request` on the
//! PHP thread (which computes it from the headers only when asked).

use crate::http::fields::Headers;

/// The longest `X-Request-Id` taken from a client.
pub const MAX_REQUEST_ID: usize = 128;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub trace_id: [u8; 16],
    /// This server's span for the request.
    pub span_id: [u8; 8],
    /// The caller's span, when a valid `traceparent` came with the request.
    pub parent_id: Option<[u8; 8]>,
    pub flags: u8,
    /// The client's `X-Request-Id` when it was taken (else the request id is the trace id).
    pub given_request_id: Option<String>,
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None, // the spec allows lowercase only
    }
}

fn parse_hex<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = hex_digit(pair[0])? << 4 | hex_digit(pair[1])?;
    }
    Some(out)
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// Appends `bytes` in lowercase hex.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.chunks(16) {
        let mut buf = [0u8; 32];
        out.extend(hex_into(&mut buf, chunk).iter().map(|&b| char::from(b)));
    }
}

/// `bytes` in lowercase hex, written to the front of `out` (at least twice their length);
/// returns what was written.
pub fn hex_into<'a>(out: &'a mut [u8], bytes: &[u8]) -> &'a [u8] {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    &out[..bytes.len() * 2]
}

/// The two lowercase hex digits of every byte: one load a byte, not two shifts and two
/// loads (the access log writes 24 bytes of ids in hex on every line).
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = [DIGITS[b >> 4], DIGITS[b & 15]];
        b += 1;
    }
    t
};

/// `(trace id, parent span, flags)` from a `traceparent` value, `None` unless valid:
/// version `00` in 55 characters (or a later one, 00's fields then `-` and more), lowercase
/// hex, trace and span ids not all zero.
pub fn parse_traceparent(v: &[u8]) -> Option<([u8; 16], [u8; 8], u8)> {
    if v.len() < 55 || v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    // W3C Trace Context: version 00 is exactly 55 characters; a later version is read by
    // the fields 00 has, and whatever it adds comes after a '-'. Version ff is invalid.
    let [version] = parse_hex::<1>(&v[..2])?;
    match version {
        0 if v.len() != 55 => return None,
        0xff => return None,
        1..=0xfe if v.len() > 55 && v[55] != b'-' => return None,
        _ => {}
    }
    let trace: [u8; 16] = parse_hex(&v[3..35])?;
    let parent: [u8; 8] = parse_hex(&v[36..52])?;
    let [flags] = parse_hex::<1>(&v[53..55])?;
    if trace == [0; 16] || parent == [0; 8] {
        return None;
    }
    Some((trace, parent, flags))
}

/// A request id the client may choose: 1–128 visible ASCII characters of a token-like set.
fn valid_request_id(v: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&v.len())
        && v.iter().all(|&b| b.is_ascii_alphanumeric() || b"-_.:+/=@".contains(&b))
}

/// New ids: a trace id and a span id, neither all zero (one draw from the thread's
/// generator for both).
fn random_ids() -> ([u8; 16], [u8; 8]) {
    let mut b = [0u8; 24];
    loop {
        fastrand::fill(&mut b);
        let (trace, span) = b.split_at(16);
        let trace: [u8; 16] = trace.try_into().unwrap_or_default();
        let span: [u8; 8] = span.try_into().unwrap_or_default();
        // Whole-word tests: a byte loop over the 24 bytes was ~100 instructions a request.
        if u128::from_ne_bytes(trace) != 0 && u64::from_ne_bytes(span) != 0 {
            return (trace, span);
        }
    }
}

/// The fields of a head a trace is made from, noted one field at a time: a pass over the
/// head that looks for other fields too (the access log's) notes these on the way.
#[derive(Default)]
pub struct TraceFields<'a> {
    /// The first `traceparent`, and how many came.
    traceparent: Option<&'a [u8]>,
    traceparents: usize,
    request_id: Option<&'a [u8]>,
}

impl<'a> TraceFields<'a> {
    /// Notes the field if it is one of the trace's (the first of a repeated one counts, as
    /// `HeaderMap::get` gives it); false if it is not.
    /// `name` in any case, as the client wrote it.
    pub fn note(&mut self, name: &[u8], value: &'a [u8]) -> bool {
        let slot = if name.eq_ignore_ascii_case(b"traceparent") {
            self.traceparents += 1;
            &mut self.traceparent
        } else if name.eq_ignore_ascii_case(b"x-request-id") {
            &mut self.request_id
        } else {
            return false;
        };
        slot.get_or_insert(value);
        true
    }

    /// The trace of a request with these fields: its valid `traceparent` continued with a
    /// new span, or a new trace.
    pub fn trace(&self) -> Trace {
        // Two `traceparent` fields make neither trustworthy (W3C: start a new trace).
        let traceparent = self.traceparent.filter(|_| self.traceparents == 1);
        Trace::from_fields(traceparent, self.request_id)
    }
}

impl Trace {
    /// The trace of a request with these headers: its valid `traceparent` continued with
    /// a new span, or a new trace.
    pub fn from_headers(headers: &Headers) -> Self {
        let mut fields = TraceFields::default();
        headers.each(|name, value| {
            fields.note(name, value);
        });
        fields.trace()
    }

    /// The trace of a request with this one `traceparent` (none when none or several came)
    /// and this `X-Request-Id`.
    fn from_fields(traceparent: Option<&[u8]>, request_id: Option<&[u8]>) -> Self {
        let (new_trace, span_id) = random_ids();
        let (trace_id, parent_id, flags) = match traceparent.and_then(parse_traceparent) {
            Some((t, p, f)) => (t, Some(p), f),
            None => (new_trace, None, 0),
        };
        let given_request_id = request_id
            // Checked to be visible ASCII: safe in a log line and a header.
            .filter(|v| valid_request_id(v))
            .map(|v| String::from_utf8_lossy(v).into_owned());
        Self { trace_id, span_id, parent_id, flags, given_request_id }
    }

    /// The client's `X-Request-Id`, or the trace id in hex.
    pub fn request_id(&self) -> String {
        let mut s = String::new();
        self.push_request_id(&mut s);
        s
    }

    pub fn push_request_id(&self, out: &mut String) {
        match &self.given_request_id {
            Some(id) => out.push_str(id),
            None => push_hex(out, &self.trace_id),
        }
    }

    /// The trace as a worker gets it from the master: ids, flags, request id.
    pub fn to_wire(&self) -> bytes::Bytes {
        let given = self.given_request_id.as_deref().unwrap_or("");
        let mut b = Vec::with_capacity(34 + given.len());
        b.extend_from_slice(&self.trace_id);
        b.extend_from_slice(&self.span_id);
        b.push(u8::from(self.parent_id.is_some()));
        b.extend_from_slice(&self.parent_id.unwrap_or_default());
        b.push(self.flags);
        b.extend_from_slice(given.as_bytes());
        bytes::Bytes::from(b)
    }

    /// `to_wire`'s bytes back; `None` for none (or bytes that are not a trace).
    pub fn from_wire(b: &[u8]) -> Option<Self> {
        if b.len() < 34 {
            return None;
        }
        let parent: [u8; 8] = b[25..33].try_into().ok()?;
        Some(Self {
            trace_id: b[..16].try_into().ok()?,
            span_id: b[16..24].try_into().ok()?,
            parent_id: (b[24] == 1).then_some(parent),
            flags: b[33],
            given_request_id: (b.len() > 34).then(|| String::from_utf8_lossy(&b[34..]).into_owned()),
        })
    }

    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }

    /// The `traceparent` for calls this request makes: this trace, this server's span.
    pub fn traceparent(&self) -> String {
        let mut s = String::with_capacity(55);
        self.push_traceparent(&mut s);
        s
    }

    pub fn push_traceparent(&self, out: &mut String) {
        out.push_str("00-");
        push_hex(out, &self.trace_id);
        out.push('-');
        push_hex(out, &self.span_id);
        out.push_str(if self.flags & 0x01 == 1 { "-01" } else { "-00" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h.into()
    }

    #[test]
    fn every_byte_is_two_lowercase_hex_digits() {
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&all), expected);
    }

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_continued_with_a_new_span() {
        let t = Trace::from_headers(&headers(&[("traceparent", VALID)]));
        assert_eq!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(t.parent_id.map(|p| hex(&p)).as_deref(), Some("00f067aa0ba902b7"));
        assert_ne!(t.span_id_hex(), "00f067aa0ba902b7");
        assert_eq!(t.flags, 1);
        assert!(t.traceparent().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(t.traceparent().ends_with("-01"));
        assert_eq!(t.request_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn a_malformed_traceparent_is_replaced() {
        for bad in [
            "",
            "garbage",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01extra",
            "0G-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            let t = Trace::from_headers(&headers(&[("traceparent", bad)]));
            assert_eq!(t.parent_id, None, "{bad:?} was trusted");
            assert_ne!(t.trace_id, [0; 16]);
            assert_eq!(parse_traceparent(t.traceparent().as_bytes()).map(|p| p.0), Some(t.trace_id));
        }
    }

    #[test]
    fn a_later_version_is_read_by_the_fields_of_version_00() {
        for later in [
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more-fields",
        ] {
            let t = Trace::from_headers(&headers(&[("traceparent", later)]));
            assert_eq!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736", "{later}");
            assert_eq!(t.parent_id.map(|p| hex(&p)).as_deref(), Some("00f067aa0ba902b7"), "{later}");
            assert!(t.traceparent().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{later}");
        }
    }

    #[test]
    fn two_traceparents_start_a_new_trace() {
        let t = Trace::from_headers(&headers(&[("traceparent", VALID), ("traceparent", VALID)]));
        assert_eq!(t.parent_id, None);
        assert_ne!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn request_ids_are_taken_only_when_sane() {
        let t = Trace::from_headers(&headers(&[("x-request-id", "abc-123_x.y")]));
        assert_eq!(t.request_id(), "abc-123_x.y");
        let long = "a".repeat(MAX_REQUEST_ID + 1);
        for bad in [long.as_str(), "has space", "quote\"", "<script>"] {
            let t = Trace::from_headers(&headers(&[("x-request-id", bad)]));
            assert_eq!(t.request_id(), t.trace_id_hex(), "{bad:?} was taken");
        }
    }

    #[test]
    fn a_trace_crosses_to_a_worker_unchanged() {
        let t = Trace::from_headers(&headers(&[("traceparent", VALID), ("x-request-id", "r-1")]));
        assert_eq!(Trace::from_wire(&t.to_wire()), Some(t));
        let fresh = Trace::from_headers(&Headers::default());
        assert_eq!(Trace::from_wire(&fresh.to_wire()), Some(fresh));
        assert_eq!(Trace::from_wire(b""), None);
    }

    #[test]
    fn new_traces_differ() {
        let a = Trace::from_headers(&Headers::default());
        let b = Trace::from_headers(&Headers::default());
        assert_ne!(a.trace_id, b.trace_id);
        assert_eq!(a.traceparent().len(), 55);
    }
}
