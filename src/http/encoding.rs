//! Content codings: negotiation from `Accept-Encoding`, and encoders that either compress a
//! whole body or flush after every chunk of a stream so each chunk is decodable at once.
//!
//! Owns: q-value parsing (RFC 9110 §12.5.3), which types are worth compressing, the coding
//! of one response (`choose_coding`, with its `Vary`, used by both HTTP/1.1 writers and the
//! static files), Brotli and gzip encoders. Does not own: the framing of what it encodes
//! (`framing`).
//!
//! Runs on Tokio threads; nothing here blocks on I/O.

use std::io::Write;

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, VARY};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::brotli_stream::BrotliStream;
use super::framing::HeaderFacts;
use super::gzip_stream::GzipStream;
use super::header_list::HeaderList;
use super::stats::Stats;
use crate::config::ServerConfig;

/// Default Brotli quality for dynamic content (php-via's choice: fast, good ratios).
pub const DEFAULT_BROTLI_LEVEL: u32 = 4;
/// Default gzip level.
pub const DEFAULT_GZIP_LEVEL: u32 = 6;
/// Bodies smaller than this are sent as they are: headers would eat the gain.
pub const DEFAULT_MIN_SIZE: usize = 1024;
/// Brotli window for streams (2^15 = 32 KiB): the encoder keeps a ring of twice the window
/// plus one input block, resident once that much has been sent, so the window bounds a
/// busy stream's memory. On Datastar events 2^15 compresses as well as 2^16 and twice as
/// well as 2^14 (bench/RESULTS.md).
const STREAM_LGWIN: u32 = 15;
/// gzip window for streams (2^14 = 16 KiB) and hash size (zlib's memLevel 4: 4 KiB of hash
/// heads). On Datastar events: 40.9× where 2^15 with memLevel 8 gives 42.3×, at 20 KiB
/// instead of 94 KiB per idle stream and 84 instead of 223 KiB per busy one.
const STREAM_GZIP_WINDOW_BITS: i32 = 14;
const STREAM_GZIP_MEM_LEVEL: i32 = 4;
/// Brotli window for whole bodies (2^22, Brotli's default).
const BODY_LGWIN: u32 = 22;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
            Self::Identity => "identity",
        }
    }

    pub fn header_value(self) -> Option<HeaderValue> {
        match self {
            Self::Identity => None,
            c => Some(HeaderValue::from_static(c.as_str())),
        }
    }
}

/// Which codings the server may use, and how hard.
#[derive(Clone, Debug)]
pub struct CompressionConfig {
    pub enabled: bool,
    pub brotli_level: u32,
    pub gzip_level: u32,
    pub min_size: usize,
}

impl Default for CompressionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            brotli_level: DEFAULT_BROTLI_LEVEL,
            gzip_level: DEFAULT_GZIP_LEVEL,
            min_size: DEFAULT_MIN_SIZE,
        }
    }
}

/// A q-value in thousandths (`q=0.5` → 500); `None` when malformed.
fn parse_q(s: &str) -> Option<u16> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_val: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(frac_val),
        "1" if frac_val == 0 => Some(1000),
        _ => None,
    }
}

/// The best coding the client accepts (RFC 9110 §12.5.3): the highest q-value among br,
/// gzip and `*`; br wins a tie. No header means identity.
pub fn negotiate(accept_encoding: Option<&HeaderValue>) -> Coding {
    let Some(value) = accept_encoding.and_then(|v| v.to_str().ok()) else { return Coding::Identity };
    let (mut br, mut gzip, mut star): (Option<u16>, Option<u16>, Option<u16>) = (None, None, None);
    for item in value.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = Some(1000);
        for param in parts {
            if let Some((k, v)) = param.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = parse_q(v);
                }
            }
        }
        let Some(q) = q else { continue };
        match name.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let br = br.or(star).unwrap_or(0);
    let gzip = gzip.or(star).unwrap_or(0);
    if br > 0 && br >= gzip {
        Coding::Brotli
    } else if gzip > 0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// Whether a media type gains from compression (text, JSON, JS, XML, SVG, event streams…);
/// images, archives, audio and video are already compressed.
pub fn is_compressible(content_type: Option<&HeaderValue>) -> bool {
    // On the value's bytes, ignoring case: no lower-cased copy, no UTF-8 pass per answer.
    let Some(ct) = content_type.map(HeaderValue::as_bytes) else { return false };
    if ct.len() > 5 && ct[..5].eq_ignore_ascii_case(b"text/") {
        return true; // most answers: text/html, text/plain, text/event-stream
    }
    if !ct.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        return false; // not visible ASCII: no type we know
    }
    let mime = ct.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
    let (top, sub) = match mime.iter().position(|&b| b == b'/') {
        Some(i) => (&mime[..i], &mime[i + 1..]),
        None => (mime, &[][..]),
    };
    let is = |s: &[u8], name: &str| s.eq_ignore_ascii_case(name.as_bytes());
    let ends = |s: &[u8], suffix: &str| {
        s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    if is(top, "text") {
        true
    } else if is(top, "application") {
        [
            "json",
            "javascript",
            "ecmascript",
            "xml",
            "xhtml+xml",
            "rss+xml",
            "atom+xml",
            "manifest+json",
            "ld+json",
            "wasm",
            "x-javascript",
            "graphql-response+json",
        ]
        .iter()
        .any(|n| is(sub, n))
            || ends(sub, "+json")
            || ends(sub, "+xml")
    } else if is(top, "image") {
        ["svg+xml", "x-icon", "vnd.microsoft.icon", "bmp"].iter().any(|n| is(sub, n))
    } else if is(top, "font") {
        is(sub, "ttf") || is(sub, "otf")
    } else {
        false
    }
}

/// Compresses a whole body.
pub fn encode_all(coding: Coding, cfg: &CompressionConfig, body: &[u8]) -> std::io::Result<Bytes> {
    match coding {
        Coding::Identity => Ok(Bytes::copy_from_slice(body)),
        Coding::Brotli => {
            let mut out = Vec::with_capacity(body.len() / 3 + 64);
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, cfg.brotli_level, BODY_LGWIN);
                w.write_all(body)?;
            }
            Ok(Bytes::from(out))
        }
        Coding::Gzip => {
            let mut w = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 3 + 64),
                flate2::Compression::new(cfg.gzip_level),
            );
            w.write_all(body)?;
            Ok(Bytes::from(w.finish()?))
        }
    }
}

/// Compresses a whole body at Brotli's highest quality, for caching static files.
pub fn brotli_max(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 4 + 64);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, BODY_LGWIN);
        w.write_all(body)?;
    }
    Ok(out)
}

enum Inner {
    Brotli(Box<BrotliStream>),
    Gzip(Box<GzipStream>),
}

/// The encoder of one streamed body: every chunk is compressed and flushed, so the peer
/// can decode it before the next one exists.
pub struct StreamEncoder {
    inner: Inner,
}

impl StreamEncoder {
    /// `None` for identity (nothing to do).
    pub fn new(coding: Coding, cfg: &CompressionConfig) -> Option<Self> {
        let inner = match coding {
            Coding::Identity => return None,
            Coding::Brotli => Inner::Brotli(Box::new(BrotliStream::new(cfg.brotli_level, STREAM_LGWIN))),
            Coding::Gzip => Inner::Gzip(Box::new(
                GzipStream::new(cfg.gzip_level, STREAM_GZIP_WINDOW_BITS, STREAM_GZIP_MEM_LEVEL).ok()?,
            )),
        };
        Some(Self { inner })
    }

    /// Compresses `chunk` and flushes; returns the bytes to send now.
    pub fn encode(&mut self, chunk: &[u8]) -> std::io::Result<Bytes> {
        match &mut self.inner {
            Inner::Brotli(b) => b.flush(chunk).map(Bytes::from),
            Inner::Gzip(g) => g.flush(chunk).map(Bytes::from),
        }
    }

    /// Ends the compressed stream; returns its last bytes.
    pub fn finish(self) -> std::io::Result<Bytes> {
        match self.inner {
            Inner::Brotli(mut b) => b.finish().map(Bytes::from),
            Inner::Gzip(mut g) => g.finish().map(Bytes::from),
        }
    }
}

/// The coding for a response: compression enabled, a compressible type the application did
/// not encode itself, a status with a body. Adds `Vary: Accept-Encoding` whenever the
/// choice depended on the request.
pub fn choose_coding(
    cfg: &ServerConfig,
    headers: &mut HeaderList,
    facts: &HeaderFacts,
    accept: Option<&HeaderValue>,
    status: StatusCode,
    is_head: bool,
) -> Coding {
    if !cfg.compression.enabled
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational()
        || facts.content_encoding
        || !facts.compressible
    {
        return Coding::Identity;
    }
    if !facts.varies_on_coding {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
    if is_head {
        return Coding::Identity;
    }
    negotiate(accept)
}

/// Adds `Vary: Accept-Encoding` unless a `Vary` already covers it.
pub fn add_vary_accept_encoding(headers: &mut HeaderMap) {
    if !headers.get_all(VARY).iter().any(varies_on_coding) {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// Whether a `Vary` value names `Accept-Encoding` or is `*`.
pub fn varies_on_coding(value: &HeaderValue) -> bool {
    value
        .as_bytes()
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .any(|t| t == b"*" || t.eq_ignore_ascii_case(b"accept-encoding"))
}

pub fn mark_encoded(headers: &mut HeaderList, coding: Coding, stats: &Stats) {
    if let Some(v) = coding.header_value() {
        headers.insert(CONTENT_ENCODING, v);
        headers.remove(&CONTENT_LENGTH);
    }
    match coding {
        Coding::Brotli => stats.compressed_br.fetch_add(1, Ordering::Relaxed),
        Coding::Gzip => stats.compressed_gzip.fetch_add(1, Ordering::Relaxed),
        Coding::Identity => 0,
    };
}

/// Test support for the stream encoders (`brotli_stream`, `gzip_stream`).
#[cfg(test)]
pub(super) mod stream_check {
    use std::io::Read;

    /// Everything a decoder gives for a stream cut short (the error at the cut is expected).
    pub fn decode_prefix(mut decoder: impl Read) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = decoder.read_to_end(&mut out);
        out
    }

    /// Flushes 300 Datastar-like events one by one; now and then, the bytes so far must
    /// decode (`decode_prefix`) to every event so far. Returns the bytes and the events.
    pub fn flush_events(
        mut flush: impl FnMut(&[u8]) -> Vec<u8>,
        decode_prefix: impl Fn(&[u8]) -> Vec<u8>,
        label: &str,
    ) -> (Vec<u8>, Vec<u8>) {
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        for i in 0..300 {
            let event = format!(
                "event: tick\ndata: <li id=\"item-{}\">row {i} {}</li>\n\n",
                i % 17,
                "x".repeat(i % 50)
            );
            sent.extend_from_slice(event.as_bytes());
            wire.extend(flush(event.as_bytes()));
            if i % 37 == 0 {
                // A truncated stream decodes up to the last flush.
                assert_eq!(decode_prefix(&wire), sent, "{label}, after event {i}");
            }
        }
        (wire, sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn hv(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn negotiation_uses_q_values_not_substrings() {
        assert_eq!(negotiate(None), Coding::Identity);
        assert_eq!(negotiate(Some(&hv("gzip, deflate, br"))), Coding::Brotli);
        assert_eq!(negotiate(Some(&hv("gzip"))), Coding::Gzip);
        assert_eq!(negotiate(Some(&hv("br;q=0, gzip"))), Coding::Gzip);
        assert_eq!(negotiate(Some(&hv("br;q=0.5, gzip;q=0.8"))), Coding::Gzip);
        assert_eq!(negotiate(Some(&hv("gzip;q=0.5, br;q=0.5"))), Coding::Brotli);
        assert_eq!(negotiate(Some(&hv("*"))), Coding::Brotli);
        assert_eq!(negotiate(Some(&hv("*;q=0"))), Coding::Identity);
        assert_eq!(negotiate(Some(&hv("identity"))), Coding::Identity);
        assert_eq!(negotiate(Some(&hv("brotli, xbr"))), Coding::Identity, "no substring matching");
        assert_eq!(negotiate(Some(&hv("BR ; Q=1"))), Coding::Brotli);
        assert_eq!(
            negotiate(Some(&hv("br;q=2, gzip;q=abc"))),
            Coding::Identity,
            "malformed q-values are ignored"
        );
    }

    #[test]
    fn compressible_types() {
        for t in [
            "text/html; charset=utf-8",
            "text/event-stream",
            "application/json",
            "image/svg+xml",
            "application/vnd.api+json",
            "TEXT/Plain",
            " Application/JSON ; charset=utf-8",
            "application/Atom+XML",
            "application/problem+JSON",
            "Font/TTF",
            "text",
        ] {
            assert!(is_compressible(Some(&hv(t))), "{t}");
        }
        for t in [
            "image/png",
            "application/zip",
            "video/mp4",
            "application/octet-stream",
            "application/json5",
            "application/+jso",
            "textual/plain",
            "",
        ] {
            assert!(!is_compressible(Some(&hv(t))), "{t}");
        }
        assert!(!is_compressible(None));
    }

    #[test]
    fn brotli_stream_chunks_decode_one_by_one() {
        let cfg = CompressionConfig::default();
        let mut enc = StreamEncoder::new(Coding::Brotli, &cfg).unwrap();
        let mut wire = Vec::new();
        for i in 0..3 {
            let chunk = format!("data: event {i}\n\n");
            let out = enc.encode(chunk.as_bytes()).unwrap();
            assert!(!out.is_empty());
            wire.extend_from_slice(&out);
            // Everything sent so far decodes to every chunk so far, without the end.
            let mut dec = brotli::Decompressor::new(&wire[..], 4096);
            let mut got = Vec::new();
            let mut buf = [0u8; 256];
            loop {
                match dec.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(_) => break, // truncated stream: what was decoded is what matters
                }
            }
            let expected: String = (0..=i).map(|j| format!("data: event {j}\n\n")).collect();
            assert_eq!(String::from_utf8(got).unwrap(), expected);
        }
        wire.extend_from_slice(&enc.finish().unwrap());
        let mut all = String::new();
        brotli::Decompressor::new(&wire[..], 4096).read_to_string(&mut all).unwrap();
        assert!(all.ends_with("data: event 2\n\n"));
    }

    #[test]
    fn gzip_stream_chunks_decode_one_by_one() {
        let cfg = CompressionConfig::default();
        let mut enc = StreamEncoder::new(Coding::Gzip, &cfg).unwrap();
        let mut wire = Vec::new();
        for i in 0..3 {
            wire.extend_from_slice(&enc.encode(format!("chunk {i}\n").as_bytes()).unwrap());
            let mut dec = flate2::read::GzDecoder::new(&wire[..]);
            let mut got = Vec::new();
            let mut buf = [0u8; 256];
            while let Ok(n) = dec.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert!(String::from_utf8_lossy(&got).ends_with(&format!("chunk {i}\n")));
        }
    }

    #[test]
    fn whole_bodies_round_trip() {
        let cfg = CompressionConfig::default();
        let body = "hello world ".repeat(500);
        let br = encode_all(Coding::Brotli, &cfg, body.as_bytes()).unwrap();
        assert!(br.len() < body.len() / 10);
        let mut out = String::new();
        brotli::Decompressor::new(&br[..], 4096).read_to_string(&mut out).unwrap();
        assert_eq!(out, body);
        let gz = encode_all(Coding::Gzip, &cfg, body.as_bytes()).unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, body);
    }
}
