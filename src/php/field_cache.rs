//! The header fields a server's responses were given lately, as given and as parsed.
//!
//! Owns: `FieldCache`, one per running server (in `Services`), used by
//! `Via\Response::header()`.
//!
//! An application sets the same few fields on every answer (a content type, a cache
//! policy), and checking a name against RFC 9110 (`HeaderName::from_bytes`: a lower-case
//! copy, then a match against the standard names) and checking and copying a value into
//! its own buffer cost ~250 instructions a call, a tenth of a small answer's time in PHP.
//! A name seen before is found by its bytes instead; a value equal to the last one given
//! for that name is shared (a reference count) rather than copied.
//!
//! PHP thread only.

use http::header::{HeaderName, HeaderValue};

/// Names kept at most; the oldest is replaced after that (an application that sets more
/// distinct names than this on its answers parses some of them each time, as before).
const NAMES: usize = 16;

/// Longest name or value kept (longer ones are parsed each time and not kept).
const LONGEST: usize = 256;

#[derive(Default)]
pub struct FieldCache {
    fields: Vec<Field>,
    /// The slot replaced next once all are in use.
    next: usize,
}

struct Field {
    /// The name as the application wrote it (case kept: another spelling is another slot).
    raw_name: Box<[u8]>,
    name: HeaderName,
    /// The last value given with this name, as given and as parsed.
    raw_value: Vec<u8>,
    value: Option<HeaderValue>,
}

/// Why a field was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Name,
    Value,
}

impl FieldCache {
    /// `name` and `value` checked and parsed, from the cache when they were seen before.
    pub fn field(&mut self, name: &[u8], value: &[u8]) -> Result<(HeaderName, HeaderValue), Refused> {
        if name.len() > LONGEST || value.len() > LONGEST {
            return parse(name, value);
        }
        let i = match self.fields.iter().position(|f| *f.raw_name == *name) {
            Some(i) => i,
            None => self.keep_name(name)?,
        };
        let f = &mut self.fields[i];
        if let Some(v) = f.value.as_ref().filter(|_| f.raw_value == value) {
            return Ok((f.name.clone(), v.clone()));
        }
        let v = HeaderValue::from_bytes(value).map_err(|_| Refused::Value)?;
        f.raw_value.clear();
        f.raw_value.extend_from_slice(value);
        f.value = Some(v.clone());
        Ok((f.name.clone(), v))
    }

    /// Parses a new name and keeps it; the slot it went into.
    fn keep_name(&mut self, raw: &[u8]) -> Result<usize, Refused> {
        let name = HeaderName::from_bytes(raw).map_err(|_| Refused::Name)?;
        let field = Field { raw_name: raw.into(), name, raw_value: Vec::new(), value: None };
        if self.fields.len() < NAMES {
            self.fields.push(field);
            return Ok(self.fields.len() - 1);
        }
        let i = self.next;
        self.next = (i + 1) % NAMES;
        self.fields[i] = field;
        Ok(i)
    }
}

/// A field parsed without the cache.
pub fn parse(name: &[u8], value: &[u8]) -> Result<(HeaderName, HeaderValue), Refused> {
    let name = HeaderName::from_bytes(name).map_err(|_| Refused::Name)?;
    let value = HeaderValue::from_bytes(value).map_err(|_| Refused::Value)?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_field_is_the_field_parsed() {
        let mut cache = FieldCache::default();
        for (name, value) in [
            (&b"Content-Type"[..], &b"text/plain"[..]),
            (b"Content-Type", b"text/plain"),
            (b"content-type", b"text/html"),
            (b"Content-Type", b"application/json"),
            (b"Content-Type", b"text/plain"),
            (b"X-Custom", b""),
            (b"X-Custom", b"\tspaced value\t"),
            (b"X-Custom", b"\xff\x80 opaque bytes"),
        ] {
            for _ in 0..2 {
                assert_eq!(cache.field(name, value), parse(name, value), "{name:?}: {value:?}");
            }
        }
    }

    #[test]
    fn bad_names_and_values_are_refused_each_time() {
        let mut cache = FieldCache::default();
        for _ in 0..2 {
            assert_eq!(cache.field(b"Bad Name", b"x"), Err(Refused::Name));
            assert_eq!(cache.field(b"", b"x"), Err(Refused::Name));
            assert_eq!(cache.field(b"X-Ok", b"a\r\nInjected: 1"), Err(Refused::Value));
            assert_eq!(cache.field(b"X-Ok", b"nul\0"), Err(Refused::Value));
        }
        // A refused value leaves the name's last good value in place.
        assert_eq!(cache.field(b"X-Ok", b"fine").map(|f| f.1), Ok(HeaderValue::from_static("fine")));
        assert!(cache.field(b"X-Ok", b"bad\n").is_err());
        assert_eq!(cache.field(b"X-Ok", b"fine").map(|f| f.1), Ok(HeaderValue::from_static("fine")));
    }

    #[test]
    fn more_names_than_slots_replace_the_oldest_and_stay_right() {
        let mut cache = FieldCache::default();
        let names: Vec<String> = (0..NAMES * 3).map(|i| format!("X-Field-{i}")).collect();
        for round in 0..3 {
            for n in &names {
                let value = format!("{n}={round}");
                assert_eq!(
                    cache.field(n.as_bytes(), value.as_bytes()),
                    parse(n.as_bytes(), value.as_bytes())
                );
            }
        }
        assert_eq!(cache.fields.len(), NAMES);
    }

    #[test]
    fn long_fields_are_parsed_and_not_kept() {
        let mut cache = FieldCache::default();
        let long = "v".repeat(LONGEST + 1);
        assert_eq!(cache.field(b"X-Long", long.as_bytes()), parse(b"X-Long", long.as_bytes()));
        assert!(cache.fields.is_empty());
    }
}
