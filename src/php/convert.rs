//! Rust data → PHP values: form trees, header maps, binary strings.
//!
//! PHP thread only. Keys and values are binary-safe.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};
use http::HeaderMap;

use crate::http::form::{FormArray, FormValue, Key};

pub fn bytes(b: &[u8]) -> Zval {
    let mut z = Zval::new();
    z.set_binary(b.to_vec());
    z
}

fn insert(ht: &mut ZendHashTable, key: &Key, value: Zval) -> PhpResult<()> {
    match key {
        Key::Int(n) => ht.insert_at_index(*n, value)?,
        Key::Str(s) => {
            let k = ZendStr::new(s, false);
            ht.insert(&*k, value)?;
        }
    }
    Ok(())
}

/// A parsed form/query/cookie tree as a PHP array, as `$_GET`/`$_POST` would hold it.
pub fn form_array(a: &FormArray) -> PhpResult<ZBox<ZendHashTable>> {
    let mut ht = ZendHashTable::with_capacity(a.len() as u32);
    for (k, v) in &a.entries {
        let value = match v {
            FormValue::Bytes(b) => bytes(b),
            FormValue::Int(n) => n.into_zval(false)?,
            FormValue::Array(inner) => form_array(inner)?.into_zval(false)?,
        };
        insert(&mut ht, k, value)?;
    }
    Ok(ht)
}

/// Headers as a PHP array keyed by lower-case name: either every value joined with ", "
/// (`joined`) or a list of values per name.
pub fn header_map(h: &HeaderMap, joined: bool) -> PhpResult<ZBox<ZendHashTable>> {
    let mut ht = ZendHashTable::with_capacity(h.keys_len() as u32);
    for name in h.keys() {
        let values = h.get_all(name);
        let value = if joined {
            let sep: &[u8] = if name == http::header::COOKIE { b"; " } else { b", " };
            let mut out = Vec::new();
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(sep);
                }
                out.extend_from_slice(v.as_bytes());
            }
            bytes(&out)
        } else {
            let mut list = ZendHashTable::new();
            for v in values {
                list.push(bytes(v.as_bytes()))?;
            }
            list.into_zval(false)?
        };
        ht.insert(name.as_str(), value)?;
    }
    Ok(ht)
}
