//! Rust data → PHP values: form trees, header maps, binary strings.
//!
//! PHP thread only. Keys and values are binary-safe.

use std::mem::MaybeUninit;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::{DataType, ZvalTypeFlags};
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};
use http::HeaderMap;

use crate::http::form::{FormArray, FormValue, Key};

/// A PHP string of these bytes, made straight from the slice (no Rust `Vec` on the way).
#[inline]
pub fn bytes(b: &[u8]) -> Zval {
    let s = ZendStr::new(b, false);
    // Strings of 0 or 1 bytes are the engine's interned ones, not reference counted.
    // SAFETY: `s` is a live string.
    let interned = unsafe { s.gc.u.type_info } & ext_php_rs::ffi::GC_IMMUTABLE != 0;
    let ty = if interned { ZvalTypeFlags::InternedStringEx } else { ZvalTypeFlags::StringEx };
    let mut z = Zval::new();
    z.value.str_ = s.into_raw();
    z.u1.type_info = ty.bits();
    z
}

// The scalar constructors below write the two fields in line. ext-php-rs's setters are
// calls: the `Zval` they fill is written as two words and then read back as one by the
// caller, which stalls store-to-load forwarding on every hot return (measured on
// `Via\Table::get()`).

/// A PHP int.
#[inline(always)]
pub fn long(n: i64) -> Zval {
    let mut z = Zval::new();
    z.value.lval = n;
    z.u1.type_info = ZvalTypeFlags::Long.bits();
    z
}

/// A PHP array.
#[inline(always)]
pub fn array(ht: ZBox<ZendHashTable>) -> Zval {
    let ty = if ht.is_immutable() { ZvalTypeFlags::Array } else { ZvalTypeFlags::ArrayEx };
    let mut z = Zval::new();
    z.value.arr = ht.into_raw();
    z.u1.type_info = ty.bits();
    z
}

/// A PHP object: a new one, whose one reference the zval takes over. `IntoZval` gives a
/// `Result` with ext-php-rs's `Error` (dozens of bytes, its payload at odd offsets): two of
/// them built and matched per request were copied through the stack, and the loads of the
/// copies waited on their stores (`perf annotate` of `serve::on_event`).
#[inline(always)]
pub fn object<T: ext_php_rs::class::RegisteredClass>(
    obj: ZBox<ext_php_rs::types::ZendClassObject<T>>,
) -> Zval {
    let mut z = Zval::new();
    // Cannot fail: ext-php-rs's `set_zval` for a class object sets it and returns `Ok`.
    let _ = obj.set_zval(&mut z, false);
    z
}

/// A PHP float.
#[inline(always)]
pub fn double(f: f64) -> Zval {
    let mut z = Zval::new();
    z.value.dval = f;
    z.u1.type_info = ZvalTypeFlags::Double.bits();
    z
}

/// A value returned to PHP: written into the engine's return slot in line (ext-php-rs's
/// `Zval` return goes through an out-of-line copy, the stall described above).
pub struct Ret(pub Zval);

const _: () = assert!(std::mem::size_of::<Zval>() == 16 && std::mem::align_of::<Zval>() == 8);

impl IntoZval for Ret {
    const TYPE: DataType = DataType::Mixed;
    const NULLABLE: bool = true;

    #[inline(always)]
    fn set_zval(self, zv: &mut Zval, _persistent: bool) -> ext_php_rs::error::Result<()> {
        // Word by word: a value kept on the stack across the arguments' drops was stored
        // there as two words and, copied whole, loaded back as one 16-byte word, which
        // waits for both stores to retire (store forwarding fails; ~5 % of
        // `Via\Table::get()` in `perf annotate`). Volatile keeps the two stores, so the
        // compiler cannot merge them, nor the loads, back into one.
        let value = std::mem::ManuallyDrop::new(self.0);
        // SAFETY: a zval is two words (asserted below `Ret`); copied as possibly
        // uninitialised words (C need not have written a zval's padding).
        let words: [MaybeUninit<u64>; 2] = unsafe { std::mem::transmute_copy(&*value) };
        let slot = std::ptr::from_mut(zv).cast::<MaybeUninit<u64>>();
        // The return slot holds no value yet (null), so nothing is released.
        // SAFETY: `zv` is a valid, writable, 8-aligned zval of two words; `self.0`'s value
        // moves into it (not dropped here).
        unsafe {
            slot.write_volatile(words[0]);
            slot.add(1).write_volatile(words[1]);
        }
        Ok(())
    }
}

/// `Ok`'s value for PHP, or `Err` thrown (and null returned, which the engine discards
/// with the exception pending). Hot methods that may fail return `Ret` through this, not
/// `PhpResult<Ret>`: ext-php-rs writes a `Result` into the return slot with an out-of-line
/// call that loads the value back as one 16-byte word right after it was stored as two,
/// a store-forwarding stall (`perf annotate`: ~5 % of `Via\Table::get()`).
#[inline(always)]
pub fn or_throw(r: PhpResult<Ret>) -> Ret {
    match r {
        Ok(v) => v,
        Err(e) => thrown(e),
    }
}

#[cold]
#[inline(never)]
fn thrown(e: ext_php_rs::exception::PhpException) -> Ret {
    // As ext-php-rs's handler does with an `Err` (`throw` itself throws an `Error` if
    // the exception cannot be made).
    e.throw();
    Ret(Zval::null())
}

/// Bytes returned to PHP as a string, made straight from the slice (`Binary<u8>` would
/// first collect them into a `Vec` and then copy that).
pub struct PhpBytes<'a>(pub std::borrow::Cow<'a, [u8]>);

impl IntoZval for PhpBytes<'_> {
    const TYPE: DataType = DataType::String;
    const NULLABLE: bool = false;

    fn set_zval(self, zv: &mut Zval, _persistent: bool) -> ext_php_rs::error::Result<()> {
        zv.set_zend_string(ZendStr::new(&*self.0, false));
        Ok(())
    }
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

/// A response's headers as a PHP array: lower-case name => list of its values, names in
/// the order they were first set.
pub fn header_list(h: &crate::http::HeaderList) -> PhpResult<ZBox<ZendHashTable>> {
    let mut names: Vec<&http::HeaderName> = Vec::new();
    for (name, _) in h {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut ht = ZendHashTable::with_capacity(names.len() as u32);
    for name in names {
        ht.insert(name.as_str(), value_list(h.get_all(name))?)?;
    }
    Ok(ht)
}

/// A header's values as a PHP list of strings.
fn value_list<'a>(values: impl Iterator<Item = &'a http::HeaderValue>) -> PhpResult<Zval> {
    let mut list = ZendHashTable::new();
    for v in values {
        list.push(bytes(v.as_bytes()))?;
    }
    Ok(list.into_zval(false)?)
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
            value_list(values.iter())?
        };
        ht.insert(name.as_str(), value)?;
    }
    Ok(ht)
}
