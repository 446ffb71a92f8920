//! A request's header fields, kept as the head's bytes until something needs a map.
//!
//! Owns: `Headers` — the fields as via's own HTTP/1.1 parser found them (one copy of the
//! head and where each name and value lies in it), or a `HeaderMap` (hyper, HTTP/2, a
//! worker's link, a request made in PHP) — and the one rule for finding a field by name in
//! either form.
//! Does not own: parsing (`h1`) or what a field means.
//!
//! Why: building a `HeaderMap` costs an allocation for its index, one for its entries, a
//! hash and a probe per field, and an allocation per field whose name is not a standard one
//! (a browser sends eight or more: `sec-fetch-*`, `sec-ch-ua*`…). Most handlers read a few
//! fields or none. `first` and `each` answer from the bytes; the map is built once, on the
//! first call that needs it (`map`), and from then on is the truth.
//!
//! Invariant: the raw form holds only fields `httparse` accepted — names are tokens (every
//! one a valid `HeaderName`), values visible ASCII, tabs, spaces or obs-text — and spans
//! inside `head`.

use std::cell::OnceCell;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;
use smallvec::SmallVec;

/// Where a name or a value lies in the head (the head of a request this form holds is at
/// most `u16::MAX` bytes: `h1` leaves longer ones to hyper).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub at: u16,
    pub len: u16,
}

impl Span {
    pub(crate) fn range(self) -> std::ops::Range<usize> {
        usize::from(self.at)..usize::from(self.at) + usize::from(self.len)
    }

    /// The same bytes, counted from `by` bytes earlier (`by` may be negative; the caller
    /// keeps the result inside its head).
    pub(crate) fn moved(self, by: i32) -> Self {
        Self { at: (i32::from(self.at) + by) as u16, len: self.len }
    }
}

/// Name and value of each field, in order. Sixteen fit in place: a browser's request.
pub type FieldSpans = SmallVec<[(Span, Span); 16]>;

/// The fields of one request.
#[derive(Clone, Debug)]
pub struct Headers {
    /// The head and its fields, in order; `None` once the map is the truth.
    raw: Option<Raw>,
    map: OnceCell<HeaderMap>,
}

#[derive(Clone, Debug)]
struct Raw {
    head: Bytes,
    /// Name and value of each field, in order.
    fields: FieldSpans,
}

impl Default for Headers {
    fn default() -> Self {
        Self::from_map(HeaderMap::new())
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.map() == other.map()
    }
}

impl From<HeaderMap> for Headers {
    fn from(map: HeaderMap) -> Self {
        Self::from_map(map)
    }
}

/// Whether every byte of `v` may be in a field value: a tab, visible ASCII and space, or
/// any byte from 0x80 (obs-text). Eight bytes at a time: a worker checks every value of
/// every request it is sent, and values are a few dozen bytes, too short for the byte
/// loop's vector form to pay off.
fn is_field_value(v: &[u8]) -> bool {
    let mut words = v.chunks_exact(8);
    let mut bad = 0;
    for w in &mut words {
        bad |= not_value_bytes(u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let rest = words.remainder();
    let mut last = [b' '; 8];
    last[..rest.len()].copy_from_slice(rest);
    (bad | not_value_bytes(u64::from_le_bytes(last))) == 0
}

/// The high bit of each byte of `x` that may not be in a field value (a control byte other
/// than tab, or DEL). Exact per byte: no carry crosses from one byte to the next.
fn not_value_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // The high bit of each byte that is not zero.
    let nonzero = |y: u64| (((y & LOW7) + LOW7) | y) & HIGH;
    // The high bit of each byte from 0x20: its low seven bits plus 0x60 reach 0x80, or its
    // own high bit is set.
    let from_space = (((x & LOW7) + ONES * 0x60) | x) & HIGH;
    let tab = !nonzero(x ^ (ONES * u64::from(b'\t'))) & HIGH;
    let del = !nonzero(x ^ (ONES * 0x7f)) & HIGH;
    (!from_space & HIGH & !tab) | del
}

impl Headers {
    pub fn from_map(map: HeaderMap) -> Self {
        Self { raw: None, map: OnceCell::from(map) }
    }

    /// Fields read by `h1` (`fields` are spans of `head` that `httparse` accepted), or
    /// fields that `is_valid_in` checked: the module invariant holds.
    pub fn from_head(head: Bytes, fields: FieldSpans) -> Self {
        debug_assert!(fields.iter().all(|(n, v)| n.range().end <= head.len() && v.range().end <= head.len()));
        Self { raw: Some(Raw { head, fields }), map: OnceCell::new() }
    }

    /// Fields sent over a worker's link: `block` holds each name and value at its span.
    /// `None` unless every field `is_valid_in` it (the caller then builds a map, which skips
    /// what is not).
    pub fn from_block(block: Bytes, fields: FieldSpans) -> Option<Self> {
        fields.iter().all(|&(n, v)| Self::is_valid_in(&block, n, v)).then(|| Self::from_head(block, fields))
    }

    /// Whether a field's spans are inside `block`, its name a token and its value a valid
    /// field value (the module invariant).
    pub fn is_valid_in(block: &[u8], name: Span, value: Span) -> bool {
        let (Some(name), Some(value)) = (block.get(name.range()), block.get(value.range())) else {
            return false;
        };
        // Folded without an early exit: the name's loop runs branch-free.
        !name.is_empty() && name.iter().fold(true, |ok, &b| ok & is_token(b)) && is_field_value(value)
    }

    /// The bytes the fields lie in (a head, or on a worker the part of one that holds its
    /// fields) and where each field lies, while those bytes are the truth (a worker's link
    /// sends them as they are: one copy, not one per name and value).
    pub fn block(&self) -> Option<(&Bytes, &FieldSpans)> {
        self.raw.as_ref().map(|r| (&r.head, &r.fields))
    }

    /// The fields as a map, built on the first call when they came as bytes.
    pub fn map(&self) -> &HeaderMap {
        self.map.get_or_init(|| self.raw.as_ref().map(Raw::to_map).unwrap_or_default())
    }

    /// The map, to change it; the bytes are forgotten.
    pub fn map_mut(&mut self) -> &mut HeaderMap {
        self.map();
        self.raw = None;
        self.map.get_mut().expect("built above")
    }

    pub fn into_map(mut self) -> HeaderMap {
        std::mem::take(self.map_mut())
    }

    /// The first value of field `name`, as `HeaderMap::get` gives it; no map is built.
    pub fn first(&self, name: &HeaderName) -> Option<HeaderValue> {
        match (&self.raw, self.map.get()) {
            (_, Some(map)) => map.get(name).cloned(),
            (Some(raw), None) => raw.find(name.as_str().as_bytes()).map(|(_, v)| raw.value(v)),
            (None, None) => None,
        }
    }

    /// The first values of fields `a` and `b`, as `first` gives each, in one pass over the
    /// fields; no map is built.
    pub fn first_two(&self, a: &HeaderName, b: &HeaderName) -> (Option<HeaderValue>, Option<HeaderValue>) {
        match (&self.raw, self.map.get()) {
            (_, Some(map)) => (map.get(a).cloned(), map.get(b).cloned()),
            (Some(raw), None) => {
                let (a, b) = (a.as_str().as_bytes(), b.as_str().as_bytes());
                let (mut va, mut vb) = (None, None);
                for &(n, v) in raw.fields.iter() {
                    let name = &raw.head[n.range()];
                    if va.is_none() && name.eq_ignore_ascii_case(a) {
                        va = Some(raw.value(v));
                    } else if vb.is_none() && name.eq_ignore_ascii_case(b) {
                        vb = Some(raw.value(v));
                    }
                }
                (va, vb)
            }
            (None, None) => (None, None),
        }
    }

    /// The first value of field `name` as bytes; no map is built.
    pub fn first_bytes(&self, name: &HeaderName) -> Option<&[u8]> {
        match (&self.raw, self.map.get()) {
            (_, Some(map)) => map.get(name).map(HeaderValue::as_bytes),
            (Some(raw), None) => raw.find(name.as_str().as_bytes()).map(|(_, v)| &raw.head[v.range()]),
            (None, None) => None,
        }
    }

    /// Every value of field `name`, in order; no map is built.
    pub fn all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.all_named(name.as_str().as_bytes())
    }

    /// Every value of the field named `name` in any case (as a PHP caller gives it), in
    /// order; no map is built, no name is made. A name that is not a token matches nothing.
    pub fn all_named<'a, 'n>(&'a self, name: &'n [u8]) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        let (raw, map) = match (&self.raw, self.map.get()) {
            (_, Some(map)) => (None, Some(map)),
            (raw, None) => (raw.as_ref(), None),
        };
        let from_raw = raw.into_iter().flat_map(move |raw| {
            raw.fields
                .iter()
                .filter(move |(n, _)| raw.head[n.range()].eq_ignore_ascii_case(name))
                .map(move |(_, v)| &raw.head[v.range()])
        });
        // `get_all` by `&str` lower-cases the name on the stack: no allocation either.
        // (The name is checked as text only when there is a map to look in.)
        let from_map = map
            .and_then(|m| Some((m, std::str::from_utf8(name).ok()?)))
            .into_iter()
            .flat_map(|(m, name)| m.get_all(name).iter().map(HeaderValue::as_bytes));
        from_raw.chain(from_map)
    }

    /// Calls `f` with the name and value of every field, in order; no map is built. Names
    /// are as the client wrote them (compare them without regard to case).
    pub fn each<'a>(&'a self, mut f: impl FnMut(&'a [u8], &'a [u8])) {
        match (&self.raw, self.map.get()) {
            (_, Some(map)) => map.iter().for_each(|(n, v)| f(n.as_str().as_bytes(), v.as_bytes())),
            (Some(raw), None) => {
                raw.fields.iter().for_each(|&(n, v)| f(&raw.head[n.range()], &raw.head[v.range()]))
            }
            (None, None) => {}
        }
    }

    /// Whether field `name` is present; no map is built.
    pub fn contains(&self, name: &HeaderName) -> bool {
        self.first_bytes(name).is_some()
    }

    /// How many values there are (a repeated field counts each time).
    pub fn len(&self) -> usize {
        match (&self.raw, self.map.get()) {
            (_, Some(map)) => map.len(),
            (Some(raw), None) => raw.fields.len(),
            (None, None) => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `b` is a `tchar` (a byte of a method or a field name).
#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// RFC 9110's `tchar`: the bytes of a field name (as `HeaderName` accepts them).
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    t
};

#[cfg(test)]
impl Headers {
    /// The fields of `head` (a whole request head) as `h1` hands them over.
    pub(crate) fn parsed_for_tests(head: &'static str) -> Self {
        let head = Bytes::from_static(head.as_bytes());
        let mut raw = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut raw);
        assert!(req.parse(&head).unwrap().is_complete());
        let base = head.as_ptr() as usize;
        let span = |s: &[u8]| Span { at: (s.as_ptr() as usize - base) as u16, len: s.len() as u16 };
        let fields = req.headers.iter().map(|h| (span(h.name.as_bytes()), span(h.value))).collect();
        Headers::from_head(head.clone(), fields)
    }
}

impl Raw {
    /// The first field named `lower` (a lower-case name), compared without regard to case.
    fn find(&self, lower: &[u8]) -> Option<(Span, Span)> {
        self.fields.iter().copied().find(|(n, _)| self.head[n.range()].eq_ignore_ascii_case(lower))
    }

    fn value(&self, v: Span) -> HeaderValue {
        // SAFETY: httparse checked the value's bytes (module invariant), as hyper's values.
        unsafe { HeaderValue::from_maybe_shared_unchecked(self.head.slice(v.range())) }
    }

    fn to_map(&self) -> HeaderMap {
        // Capped, and `try_append`: a map past its limit (tens of thousands of names) would
        // panic; `h1` and a worker's link bring far fewer fields.
        let mut map = HeaderMap::with_capacity(self.fields.len().min(128));
        for &(n, v) in &self.fields {
            // Every name httparse accepts is a token, and so a valid name (module
            // invariant); one that were not would be left out rather than invented.
            if let Ok(name) = HeaderName::from_bytes(&self.head[n.range()]) {
                if map.try_append(name, self.value(v)).is_err() {
                    break;
                }
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_value_is_checked_byte_for_byte_at_every_place() {
        let ok = |b: u8| b == b'\t' || (b >= b' ' && b != 0x7f);
        for len in 0..=17 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert_eq!(is_field_value(&v), ok(b), "byte {b:#04x} at {at} of {len}");
                }
            }
        }
        // Neighbours that would carry into one another in a word-wide subtraction.
        for (a, b) in [(0x00, 0x01), (0x09, 0x0a), (0x1f, 0x20), (0x7f, 0x80), (0xff, 0x00), (0x80, 0x7f)] {
            assert_eq!(is_field_value(&[b'x', a, b, b'y']), ok(a) && ok(b), "{a:#04x} {b:#04x}");
        }
    }

    fn parsed(text: &'static str) -> Headers {
        Headers::parsed_for_tests(text)
    }

    const HEAD: &str = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nAccept-Encoding: br\r\nx-a: 2\r\nSec-Fetch-Mode: cors\r\nCookie: c=1\r\n\r\n";

    #[test]
    fn fields_are_found_by_name_in_either_form_alike() {
        let raw = parsed(HEAD);
        let map = Headers::from_map(parsed(HEAD).map().clone());
        let x_a = HeaderName::from_static("x-a");
        let absent = HeaderName::from_static("x-absent");
        for h in [&raw, &map] {
            assert_eq!(h.first(&x_a).unwrap(), "1", "the first of a repeated field");
            assert_eq!(h.first_bytes(&http::header::ACCEPT_ENCODING), Some(&b"br"[..]));
            assert_eq!(h.all(&x_a).collect::<Vec<_>>(), [b"1", b"2"]);
            assert_eq!(h.all_named(b"X-a").collect::<Vec<_>>(), [b"1", b"2"], "any case");
            assert!(h.all_named(b"x a").next().is_none() && h.all_named(b"\xff").next().is_none());
            assert!(h.contains(&HeaderName::from_static("sec-fetch-mode")));
            assert!(!h.contains(&absent) && h.first(&absent).is_none() && h.all(&absent).next().is_none());
            let cookie = http::header::COOKIE;
            for (a, b) in [(&x_a, &cookie), (&cookie, &x_a), (&absent, &x_a), (&x_a, &absent)] {
                assert_eq!(h.first_two(a, b), (h.first(a), h.first(b)), "{a} and {b} in one pass");
            }
            assert_eq!(h.len(), 6);
        }
        assert!(raw.map.get().is_none(), "finding fields built no map");
        assert_eq!(raw, map);
    }

    #[test]
    fn a_block_of_fields_is_taken_only_when_every_field_is_valid() {
        let block = Bytes::from_static(b"X-Ab1\tv x\xe9bad name\rv");
        let span = |at, len| Span { at, len };
        let good: SmallVec<_> = [(span(0, 2), span(5, 5)), (span(2, 3), span(0, 0))].into_iter().collect();
        let h = Headers::from_block(block.clone(), good).expect("tokens and values");
        assert_eq!(h.map().get("x-").unwrap().as_bytes(), b"\tv x\xe9");
        assert_eq!(h.first_bytes(&HeaderName::from_static("ab1")), Some(&b""[..]));
        for bad in [
            (span(10, 8), span(0, 1)),  // a space in the name
            (span(0, 2), span(18, 2)),  // a CR in the value
            (span(0, 0), span(0, 1)),   // an empty name
            (span(0, 2), span(19, 10)), // past the block
        ] {
            assert!(Headers::from_block(block.clone(), [bad].into_iter().collect()).is_none(), "{bad:?}");
        }
        for b in 0..=255u8 {
            assert_eq!(TOKEN[usize::from(b)], HeaderName::from_bytes(&[b]).is_ok(), "byte {b}");
        }
    }

    #[test]
    fn the_map_holds_every_field_in_order_and_becomes_the_truth() {
        let mut h = parsed(HEAD);
        let names: Vec<_> = h.map().iter().map(|(n, v)| format!("{n}={}", v.to_str().unwrap())).collect();
        assert_eq!(
            names,
            ["host=a", "x-a=1", "x-a=2", "accept-encoding=br", "sec-fetch-mode=cors", "cookie=c=1"]
        );
        h.map_mut().remove("x-a");
        assert!(h.first(&HeaderName::from_static("x-a")).is_none(), "a change shows in every lookup");
        assert_eq!(h.len(), 4);
        assert_eq!(h.clone().into_map().len(), 4);
        assert!(Headers::default().is_empty());
    }
}
