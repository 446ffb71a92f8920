//! A response's header fields: a short list, searched by name.
//!
//! Owns: the fields of a `ResponseStart` from `Via\Response::header()` to the writer.
//! Does not own: request fields (`fields::Headers`), or the maps hyper wants (`into_map`
//! makes one for the paths that go through hyper).
//!
//! Why not `http::HeaderMap`: a response has a handful of fields. The map allocates its
//! index and its entries on the first insert, hashes every name it is given, and is 96
//! bytes that every hand-over of the answer copies; a list is one allocation, 24 bytes, and
//! a scan of a few names that compare as one byte each when they are standard
//! (measured in bench/RESULTS.md, "Issue 12, fourteenth part").
//!
//! Order: names in the order they were first set, the values of a name together in the
//! order they were added — what iterating a `HeaderMap` gives, so every writer sends the
//! fields as before.

use http::header::{HeaderMap, HeaderName, HeaderValue};

/// A field name: a `HeaderName`, or a static lower-case name (`"x-accel-buffering"`).
pub trait IntoName {
    fn into_name(self) -> HeaderName;
}

impl IntoName for HeaderName {
    fn into_name(self) -> HeaderName {
        self
    }
}

impl IntoName for &'static str {
    /// Panics on a name that is not a valid lower-case field name, as
    /// `HeaderName::from_static` does: for names written in the source.
    fn into_name(self) -> HeaderName {
        HeaderName::from_static(self)
    }
}

/// Header fields in order (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderList {
    fields: Vec<(HeaderName, HeaderValue)>,
}

impl HeaderList {
    pub const fn new() -> Self {
        Self { fields: Vec::new() }
    }

    pub fn with_capacity(n: usize) -> Self {
        Self { fields: Vec::with_capacity(n) }
    }

    /// The number of values (a name set twice counts twice).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The first value of `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&HeaderValue> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl DoubleEndedIterator<Item = &'a HeaderValue> {
        self.fields.iter().filter(move |(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn contains_key(&self, name: &HeaderName) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// Sets `name` to `value` alone: its first value is replaced where it stands, any
    /// others removed; a new name goes last.
    pub fn insert(&mut self, name: impl IntoName, value: HeaderValue) {
        let name = name.into_name();
        match self.fields.iter().position(|(n, _)| *n == name) {
            Some(first) => {
                self.fields[first].1 = value;
                let mut i = first + 1;
                while i < self.fields.len() {
                    if self.fields[i].0 == name {
                        self.fields.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            None => self.fields.push((name, value)),
        }
    }

    /// Adds a value to `name`, after its other values (a new name goes last).
    pub fn append(&mut self, name: impl IntoName, value: HeaderValue) {
        let name = name.into_name();
        match self.fields.iter().rposition(|(n, _)| *n == name) {
            Some(last) if last + 1 < self.fields.len() => self.fields.insert(last + 1, (name, value)),
            _ => self.fields.push((name, value)),
        }
    }

    /// Adds a field last, as it comes: for fields read in an order that already keeps a
    /// name's values together (a head decoded from a list's encoding). Constant time,
    /// where `append` searches.
    pub fn push(&mut self, name: HeaderName, value: HeaderValue) {
        self.fields.push((name, value));
    }

    /// Removes every value of `name`; the first, if there was one.
    pub fn remove(&mut self, name: &HeaderName) -> Option<HeaderValue> {
        let first = self.fields.iter().position(|(n, _)| n == name)?;
        let (_, value) = self.fields.remove(first);
        self.fields.retain(|(n, _)| n != name);
        Some(value)
    }

    /// Names and values in order, a name once per value.
    pub fn iter(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.into_iter()
    }

    /// The fields as a map, for hyper. With room for the fields hyper adds (`date`,
    /// `content-length`): a full map regrows, rehashing every name.
    pub fn into_map(self) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(self.fields.len() + 4);
        for (name, value) in self.fields {
            map.append(name, value);
        }
        map
    }
}

impl<'a> IntoIterator for &'a HeaderList {
    type Item = (&'a HeaderName, &'a HeaderValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (HeaderName, HeaderValue)>,
        fn(&'a (HeaderName, HeaderValue)) -> (&'a HeaderName, &'a HeaderValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.iter().map(|(n, v)| (n, v))
    }
}

impl From<HeaderMap> for HeaderList {
    fn from(map: HeaderMap) -> Self {
        let mut fields = Vec::with_capacity(map.len());
        let mut name = None;
        for (n, v) in map {
            // A map gives a name with its first value only.
            if let Some(n) = n {
                name = Some(n);
            }
            if let Some(n) = &name {
                fields.push((n.clone(), v));
            }
        }
        Self { fields }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{CONTENT_TYPE, SET_COOKIE, VARY};

    fn v(s: &'static str) -> HeaderValue {
        HeaderValue::from_static(s)
    }

    fn pairs(h: &HeaderList) -> Vec<(String, String)> {
        h.iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string())).collect()
    }

    fn map_pairs(m: &HeaderMap) -> Vec<(String, String)> {
        m.iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string())).collect()
    }

    /// The same calls on a list and on a `HeaderMap` iterate the same fields in the same
    /// order (what the writers send).
    #[test]
    fn iterates_as_a_header_map_does() {
        let (mut list, mut map) = (HeaderList::new(), HeaderMap::new());
        let steps: [(bool, HeaderName, &'static str); 7] = [
            (false, SET_COOKIE, "a=1"),
            (true, CONTENT_TYPE, "text/plain"),
            (false, SET_COOKIE, "b=2"),
            (false, HeaderName::from_static("x-one"), "1"),
            (false, VARY, "origin"),
            (false, SET_COOKIE, "c=3"),
            (true, CONTENT_TYPE, "text/html"),
        ];
        for (replace, name, value) in steps {
            if replace {
                list.insert(name.clone(), v(value));
                map.insert(name, v(value));
            } else {
                list.append(name.clone(), v(value));
                map.append(name, v(value));
            }
        }
        assert_eq!(pairs(&list), map_pairs(&map));
        assert_eq!(list.len(), map.len());
        assert_eq!(map_pairs(&list.clone().into_map()), map_pairs(&map));
        assert_eq!(HeaderList::from(map), list);
    }

    #[test]
    fn insert_replaces_every_value_in_place_of_the_first() {
        let mut h = HeaderList::new();
        h.append("x-a", v("1"));
        h.append(SET_COOKIE, v("a"));
        h.append(SET_COOKIE, v("b"));
        h.append("x-b", v("2"));
        h.insert(SET_COOKIE, v("c"));
        assert_eq!(
            pairs(&h),
            [("x-a", "1"), ("set-cookie", "c"), ("x-b", "2")].map(|(a, b)| (a.into(), b.into()))
        );
        h.insert("x-new", v("n"));
        assert_eq!(h.iter().last().unwrap().0, "x-new");
    }

    #[test]
    fn lookups_and_removal() {
        let mut h = HeaderList::with_capacity(4);
        assert!(h.is_empty() && h.get(&CONTENT_TYPE).is_none() && h.remove(&CONTENT_TYPE).is_none());
        h.append(SET_COOKIE, v("a"));
        h.append(CONTENT_TYPE, v("text/plain"));
        h.append(SET_COOKIE, v("b"));
        assert_eq!(h.get(&SET_COOKIE), Some(&v("a")));
        assert_eq!(h.get_all(&SET_COOKIE).collect::<Vec<_>>(), [&v("a"), &v("b")]);
        assert_eq!(h.get_all(&SET_COOKIE).next_back(), Some(&v("b")));
        assert!(h.contains_key(&CONTENT_TYPE) && !h.contains_key(&VARY));
        assert_eq!(h.remove(&SET_COOKIE), Some(v("a")));
        assert_eq!(pairs(&h), [("content-type".to_string(), "text/plain".to_string())]);
        assert_eq!(h.len(), 1);
    }
}
