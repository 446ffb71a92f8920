//! Query strings, urlencoded bodies and cookies, parsed the way PHP fills `$_GET`,
//! `$_POST`, `$_COOKIE` and `$_FILES` — into a plain tree, not into PHP values.
//!
//! Owns: PHP's variable-name rules (`a[]=1`, `b[x][y]=2`, `a.b` → `a_b`, numeric keys
//! become ints, unterminated brackets, nesting limit) and percent-decoding.
//! Does not own: building PHP arrays (`php::convert` walks the tree).
//!
//! Pure and binary-safe: names and values are bytes.

use indexmap::IndexMap;

/// PHP's `max_input_nesting_level` default; deeper variables are dropped, as PHP does.
pub const MAX_NESTING: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Int(i64),
    Str(Vec<u8>),
}

impl Key {
    /// A key as PHP's symbol tables store it: canonical decimal integers become ints.
    pub fn from_bytes(b: &[u8]) -> Self {
        match canonical_int(b) {
            Some(n) => Key::Int(n),
            None => Key::Str(b.to_vec()),
        }
    }
}

/// `ZEND_HANDLE_NUMERIC_STR`: "0", "-5", "42" but not "05", "-0", "+1", " 1", overflows.
fn canonical_int(b: &[u8]) -> Option<i64> {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || b.len() > 1) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

#[derive(Debug, Clone, PartialEq)]
pub enum FormValue {
    Bytes(Vec<u8>),
    Int(i64),
    Array(FormArray),
}

/// An ordered PHP-like array: string and int keys, and `[]` appends at max int key + 1.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FormArray {
    pub entries: IndexMap<Key, FormValue>,
    next_index: i64,
}

impl FormArray {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn get(&self, key: &Key) -> Option<&FormValue> {
        self.entries.get(key)
    }

    fn set(&mut self, key: Option<Key>, value: FormValue, first_wins: bool) {
        match key {
            None => self.append(value),
            Some(k) => {
                if first_wins && self.entries.contains_key(&k) {
                    return;
                }
                if let Key::Int(n) = k {
                    if n >= self.next_index {
                        self.next_index = n.saturating_add(1);
                    }
                }
                self.entries.insert(k, value);
            }
        }
    }

    fn append(&mut self, value: FormValue) {
        let k = Key::Int(self.next_index);
        self.next_index = self.next_index.saturating_add(1);
        self.entries.insert(k, value);
    }

    /// The array stored under `key` (created, or replacing a scalar, as PHP does).
    fn child(&mut self, key: Option<Key>) -> &mut FormArray {
        let key = match key {
            Some(k) => k,
            None => {
                let k = Key::Int(self.next_index);
                self.next_index = self.next_index.saturating_add(1);
                k
            }
        };
        if let Key::Int(n) = key {
            if n >= self.next_index {
                self.next_index = n.saturating_add(1);
            }
        }
        let slot = self.entries.entry(key).or_insert_with(|| FormValue::Array(FormArray::default()));
        if !matches!(slot, FormValue::Array(_)) {
            *slot = FormValue::Array(FormArray::default());
        }
        match slot {
            FormValue::Array(a) => a,
            _ => unreachable!("just made an array"),
        }
    }

    /// Registers one variable by its raw name, e.g. `user[emails][]`, like PHP's
    /// `php_register_variable_ex`. Returns false when the name is dropped (empty, or
    /// nested deeper than `MAX_NESTING`). `first_wins` is PHP's rule for cookies.
    pub fn register(&mut self, raw_name: &[u8], value: FormValue, first_wins: bool) -> bool {
        let Some((base, path)) = parse_name(raw_name) else { return false };
        let base = Key::from_bytes(&base);
        if path.is_empty() {
            self.set(Some(base), value, first_wins);
            return true;
        }
        let mut arr = self.child(Some(base));
        let last = path.len() - 1;
        for (i, seg) in path.into_iter().enumerate() {
            let key = seg.map(|s| Key::from_bytes(&s));
            if i == last {
                arr.set(key, value, false);
                break;
            }
            arr = arr.child(key);
        }
        true
    }
}

/// Splits a variable name into its base and bracket segments (`None` = `[]`), applying
/// PHP's mangling. `None` when PHP would drop the variable.
/// A variable's base name and its bracket segments (`None` = `[]`).
type ParsedName = (Vec<u8>, Vec<Option<Vec<u8>>>);

fn parse_name(raw: &[u8]) -> Option<ParsedName> {
    let start = raw.iter().position(|&c| c != b' ').unwrap_or(raw.len());
    let raw = &raw[start..];
    let mut base = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() && raw[i] != b'[' {
        base.push(if raw[i] == b' ' || raw[i] == b'.' { b'_' } else { raw[i] });
        i += 1;
    }
    if base.is_empty() {
        return None;
    }
    let mut path = Vec::new();
    while i < raw.len() && raw[i] == b'[' {
        if path.len() + 1 > MAX_NESTING {
            return None;
        }
        let seg_start = i + 1;
        match raw[seg_start..].iter().position(|&c| c == b']') {
            None => {
                if path.is_empty() {
                    // Not an index: the '[' and everything after joins the base name.
                    base.push(b'_');
                    base.extend(raw[seg_start..].iter().map(|&c| match c {
                        b' ' | b'.' | b'[' => b'_',
                        c => c,
                    }));
                }
                // Deeper, PHP stores the value at the previous segment.
                return Some((base, path));
            }
            Some(len) => {
                let seg = &raw[seg_start..seg_start + len];
                path.push(if seg.is_empty() { None } else { Some(seg.to_vec()) });
                i = seg_start + len + 1;
            }
        }
    }
    // Anything after the last ']' that is not another '[' is ignored, as in PHP.
    Some((base, path))
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decoding; `plus_as_space` for form encoding (PHP's `urldecode`), without it
/// `rawurldecode`. Invalid escapes are kept literally, as PHP does.
pub fn percent_decode(input: &[u8], plus_as_space: bool) -> Vec<u8> {
    // Most values (a session id, a number, a word) have nothing to decode: one search.
    let plain = if plus_as_space { memchr::memchr2(b'%', b'+', input) } else { memchr::memchr(b'%', input) };
    if plain.is_none() {
        return input.to_vec();
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' if plus_as_space => out.push(b' '),
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Result of parsing variables with a cap on their number.
#[derive(Debug, Default)]
pub struct Parsed {
    pub vars: FormArray,
    /// More variables than allowed were sent; the rest was ignored.
    pub truncated: bool,
}

/// `a=1&b[]=2` as PHP parses a query string or an urlencoded body.
pub fn parse_urlencoded(input: &[u8], max_vars: usize) -> Parsed {
    parse_pairs(input.split(|&c| c == b'&'), max_vars, |vars, pair| {
        let (name, value) = split_pair(pair);
        vars.register(&percent_decode(name, true), FormValue::Bytes(percent_decode(value, true)), false)
    })
}

/// A `Cookie` header as PHP fills `$_COOKIE`: `;`-separated, names not decoded, values
/// raw-url-decoded, the first of two equal names wins.
pub fn parse_cookies(header: &[u8], max_vars: usize) -> Parsed {
    parse_pairs(header.split(|&c| c == b';').map(trim_ascii), max_vars, |vars, pair| {
        let (name, value) = split_pair(pair);
        vars.register(trim_ascii(name), FormValue::Bytes(percent_decode(value, false)), true)
    })
}

/// What `find_cookie` found.
#[derive(Debug, PartialEq, Eq)]
pub enum CookieLookup {
    /// The value of the cookie named so, as `parse_cookies` would give it.
    Found(Vec<u8>),
    Missing,
    /// A cookie name with brackets is there: it may make an array of that name, and only
    /// `parse_cookies` says what the array holds.
    Complex,
}

/// The cookie `key` of these `Cookie` field values (in order), as the array of
/// `parse_cookies` over them joined with "; " has it, without building that array: the
/// first of a repeated name wins, names are mangled (`.` and space become `_`), and only
/// the first `max_vars` cookies count. Looks at every pair, since a later `key[x]` pair
/// would replace the value with an array.
pub fn find_cookie<'a>(fields: impl Iterator<Item = &'a [u8]>, key: &[u8], max_vars: usize) -> CookieLookup {
    let mut count = 0;
    let mut found = None;
    for field in fields {
        for pair in field.split(|&c| c == b';').map(trim_ascii).filter(|p| !p.is_empty()) {
            let (name, value) = split_pair(pair);
            let name = trim_ascii(name);
            if name.contains(&b'[') {
                return CookieLookup::Complex;
            }
            // `parse_name` takes any name left after trimming (no bracket: its base).
            if name.is_empty() || count >= max_vars {
                continue;
            }
            count += 1;
            let mangled = |(&n, &k): (&u8, &u8)| k == if n == b' ' || n == b'.' { b'_' } else { n };
            if found.is_none() && name.len() == key.len() && name.iter().zip(key).all(mangled) {
                found = Some(value);
            }
        }
    }
    match found {
        Some(value) => CookieLookup::Found(percent_decode(value, false)),
        None => CookieLookup::Missing,
    }
}

/// Registers one variable per non-empty pair, at most `max_vars` of them (PHP's
/// `max_input_vars`; the rest is ignored and the result says so). `register` returns
/// whether the pair counted as a variable.
fn parse_pairs<'a>(
    pairs: impl Iterator<Item = &'a [u8]>,
    max_vars: usize,
    register: impl Fn(&mut FormArray, &'a [u8]) -> bool,
) -> Parsed {
    let mut parsed = Parsed::default();
    let mut count = 0;
    for pair in pairs.filter(|p| !p.is_empty()) {
        if count >= max_vars {
            parsed.truncated = true;
            break;
        }
        if register(&mut parsed.vars, pair) {
            count += 1;
        }
    }
    parsed
}

/// `name=value` → (name, value); without `=`, the value is empty.
fn split_pair(pair: &[u8]) -> (&[u8], &[u8]) {
    match pair.iter().position(|&c| c == b'=') {
        Some(eq) => (&pair[..eq], &pair[eq + 1..]),
        None => (pair, &b""[..]),
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

/// One attribute of a `$_FILES` entry, registered as PHP's rfc1867 code does: the
/// attribute goes right after the base name, so `f[a][]` gives `$_FILES['f']['name']['a'][0]`.
pub fn register_file_attribute(files: &mut FormArray, field: &[u8], attribute: &str, value: FormValue) {
    let split = field.iter().position(|&c| c == b'[').unwrap_or(field.len());
    let mut name = Vec::with_capacity(field.len() + attribute.len() + 2);
    name.extend_from_slice(&field[..split]);
    name.push(b'[');
    name.extend_from_slice(attribute.as_bytes());
    name.push(b']');
    name.extend_from_slice(&field[split..]);
    files.register(&name, value, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> FormValue {
        FormValue::Bytes(v.as_bytes().to_vec())
    }
    fn k(v: &str) -> Key {
        Key::from_bytes(v.as_bytes())
    }
    fn arr(a: &FormArray, key: &str) -> FormArray {
        match a.get(&k(key)) {
            Some(FormValue::Array(x)) => x.clone(),
            other => panic!("{key}: not an array: {other:?}"),
        }
    }
    /// Each `(name, value)` is a string variable of `vars`.
    fn assert_strings(vars: &FormArray, expected: &[(&str, &str)]) {
        for (name, value) in expected {
            assert_eq!(vars.get(&k(name)), Some(&s(value)), "{name}");
        }
    }

    #[test]
    fn plain_pairs_and_decoding() {
        let p = parse_urlencoded(b"a=1&b=hello+world&c=%41%42&d&e=", 100);
        assert_strings(&p.vars, &[("a", "1"), ("b", "hello world"), ("c", "AB"), ("d", ""), ("e", "")]);
    }

    #[test]
    fn bracket_syntax() {
        let p = parse_urlencoded(b"a[]=1&a[]=2&b[x]=1&b[y][]=3&c[5]=x&c[]=y", 100);
        let a = arr(&p.vars, "a");
        assert_eq!(a.get(&Key::Int(0)), Some(&s("1")));
        assert_eq!(a.get(&Key::Int(1)), Some(&s("2")));
        let b = arr(&p.vars, "b");
        assert_eq!(b.get(&k("x")), Some(&s("1")));
        assert_eq!(arr(&b, "y").get(&Key::Int(0)), Some(&s("3")));
        let c = arr(&p.vars, "c");
        assert_eq!(c.get(&Key::Int(6)), Some(&s("y")), "append continues after the max int key");
    }

    #[test]
    fn php_name_mangling() {
        let p = parse_urlencoded(b"a.b=1&c+d=2&e[f=3&%20g=4&h[x]junk=5&=6", 100);
        // " g": leading spaces are skipped.
        assert_strings(&p.vars, &[("a_b", "1"), ("c_d", "2"), ("e_f", "3"), ("g", "4")]);
        assert_eq!(arr(&p.vars, "h").get(&k("x")), Some(&s("5")));
        assert_eq!(p.vars.len(), 5, "an empty name is dropped");
    }

    #[test]
    fn numeric_keys_become_ints() {
        assert_eq!(Key::from_bytes(b"12"), Key::Int(12));
        assert_eq!(Key::from_bytes(b"-3"), Key::Int(-3));
        assert_eq!(Key::from_bytes(b"0"), Key::Int(0));
        assert_eq!(Key::from_bytes(b"012"), Key::Str(b"012".to_vec()));
        assert_eq!(Key::from_bytes(b"-0"), Key::Str(b"-0".to_vec()));
        assert_eq!(Key::from_bytes(b"99999999999999999999"), Key::Str(b"99999999999999999999".to_vec()));
    }

    #[test]
    fn later_value_wins_and_scalar_becomes_array() {
        let p = parse_urlencoded(b"a=1&a=2&b=1&b[x]=2", 100);
        assert_eq!(p.vars.get(&k("a")), Some(&s("2")));
        assert_eq!(arr(&p.vars, "b").get(&k("x")), Some(&s("2")));
    }

    #[test]
    fn max_vars_truncates() {
        let p = parse_urlencoded(b"a=1&b=2&c=3", 2);
        assert!(p.truncated);
        assert_eq!(p.vars.len(), 2);
    }

    #[test]
    fn nesting_limit_drops_the_variable() {
        let deep = format!("a{}=1", "[x]".repeat(MAX_NESTING + 1));
        assert!(parse_urlencoded(deep.as_bytes(), 10).vars.is_empty());
    }

    #[test]
    fn invalid_percent_escapes_are_literal() {
        assert_eq!(percent_decode(b"%zz%4", true), b"%zz%4");
        assert_eq!(percent_decode(b"%41", false), b"A");
        assert_eq!(percent_decode(b"a+b", false), b"a+b");
        assert_eq!(percent_decode(b"%", true), b"%");
        assert_eq!(percent_decode(b"%4", true), b"%4");
    }

    #[test]
    fn one_cookie_is_found_as_the_whole_array_has_it() {
        let headers: [&[&[u8]]; 9] = [
            &[b"a=1; b=x+y%20z; a=2;c; d = 4 "],
            &[b"via_session_id=0123abcd", b"other=1; via_session_id=later"],
            &[b" a.b = 5; a_b=6", b"x y=7"],
            &[b"a=1; a[x]=2"],
            &[b"a[x=1; b=2"],
            &[b"n1=1; n2=2; n3=3"],
            &[b"123=num; =empty; ;;"],
            &[b""],
            &[b"e=%zz%41; f="],
        ];
        let keys: [&[u8]; 12] =
            [b"a", b"b", b"c", b"d", b"via_session_id", b"a_b", b"x_y", b"n3", b"123", b"e", b"f", b"zz"];
        for fields in headers {
            let joined = fields.join(&b"; "[..]);
            for max in [100, 2] {
                let all = parse_cookies(&joined, max);
                for key in keys {
                    let want = all.vars.get(&Key::from_bytes(key));
                    match (find_cookie(fields.iter().copied(), key, max), want) {
                        (CookieLookup::Complex, _) => assert!(joined.contains(&b'['), "{joined:?} {key:?}"),
                        (CookieLookup::Found(v), Some(FormValue::Bytes(w))) => assert_eq!(&v, w),
                        (CookieLookup::Missing, None) => {}
                        (got, want) => panic!("{joined:?} {key:?} (max {max}): {got:?} against {want:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn cookies_first_wins_raw_decoding() {
        let p = parse_cookies(b"a=1; b=x+y%20z; a=2;c; d = 4 ", 100);
        assert_strings(&p.vars, &[("a", "1"), ("b", "x+y z"), ("c", ""), ("d", " 4")]);
    }

    #[test]
    fn file_attributes_follow_the_base_name() {
        let mut files = FormArray::default();
        register_file_attribute(&mut files, b"doc[a][]", "name", s("x.txt"));
        register_file_attribute(&mut files, b"doc[a][]", "size", FormValue::Int(3));
        let doc = arr(&files, "doc");
        assert_eq!(arr(&arr(&doc, "name"), "a").get(&Key::Int(0)), Some(&s("x.txt")));
        assert_eq!(arr(&arr(&doc, "size"), "a").get(&Key::Int(0)), Some(&FormValue::Int(3)));
    }
}
