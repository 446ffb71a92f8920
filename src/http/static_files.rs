//! Static files served by Rust from a directory mapped to a URL prefix; PHP is never
//! entered for them.
//!
//! Owns: safe path resolution (no `..`, no encoded slashes, no symlink out of the root:
//! those get 404), conditional requests (ETag, Last-Modified → 304), single byte ranges
//! (206, 416), MIME types, and Brotli-11 variants compressed once in the background and
//! kept in a bounded in-memory cache that is invalidated when the file changes.
//! A path that names no file (or a directory) is not ours: it goes on to PHP.
//!
//! Runs on Tokio threads; file reads are async, compression runs on the blocking pool.

use std::collections::HashMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{
    HeaderValue, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
};
use http::{HeaderMap, Method, StatusCode};
use parking_lot::Mutex;

use super::cookie::http_date;
use super::encoding::{self, Coding};
use crate::config::StaticConfig;

/// Files larger than this are not compressed into the cache (Brotli 11 is slow).
const MAX_COMPRESS_SIZE: u64 = 8 * 1024 * 1024;
/// Files up to this size are read into memory in one go; larger ones are streamed.
pub const READ_WHOLE_MAX: u64 = 256 * 1024;

/// What to send for a static path.
pub enum StaticReply {
    /// Headers only (304, 416, HEAD).
    Empty(StatusCode, HeaderMap),
    /// A body held in memory (small files, cached Brotli variants).
    Bytes(StatusCode, HeaderMap, Bytes),
    /// `len` bytes of `path` from `offset`.
    File { status: StatusCode, headers: HeaderMap, path: PathBuf, offset: u64, len: u64 },
    /// Refused: a path that tries to leave the root.
    NotFound,
}

struct CacheEntry {
    mtime: SystemTime,
    size: u64,
    data: Bytes,
    last_used: u64,
}

#[derive(Default)]
struct BrotliCache {
    entries: HashMap<PathBuf, CacheEntry>,
    bytes: usize,
    clock: u64,
    in_progress: std::collections::HashSet<PathBuf>,
}

pub struct StaticFiles {
    cfg: StaticConfig,
    cache: Arc<Mutex<BrotliCache>>,
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Decodes one path segment; `None` when it holds an encoded `/`, `\` or NUL, or is not
/// UTF-8 — nothing a file name in the root should need.
fn decode_segment(seg: &str) -> Option<String> {
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let v = hex_val(b[i + 1])? << 4 | hex_val(b[i + 2])?;
            out.push(v);
            i += 3;
        } else if b[i] == b'%' {
            return None;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if out.iter().any(|&c| c == b'/' || c == b'\\' || c == 0) {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Where the part of the URL path after the prefix points, relative to the root.
/// `Err(())` for an escape attempt.
fn relative_path(rest: &str) -> Result<PathBuf, ()> {
    let mut rel = PathBuf::new();
    for seg in rest.split('/') {
        if seg.is_empty() {
            continue;
        }
        let name = decode_segment(seg).ok_or(())?;
        if name == "." || name == ".." {
            return Err(());
        }
        rel.push(&name);
    }
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(());
    }
    Ok(rel)
}

/// The MIME type for a file name; text types carry `charset=utf-8`.
pub fn mime_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

fn etag(mtime: SystemTime, size: u64) -> String {
    let d = mtime.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("\"{:x}-{:x}-{:x}\"", d.as_secs(), d.subsec_nanos(), size)
}

/// `If-None-Match` with weak comparison (RFC 9110 §13.1.2): `*` or any listed tag.
fn none_match(header: &HeaderValue, tag: &str) -> bool {
    let Ok(v) = header.to_str() else { return false };
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    v.trim() == "*" || v.split(',').any(|t| bare(t) == bare(tag))
}

/// One `bytes=` range of a file of `size` bytes: `Ok(None)` when absent or not a single
/// byte range (send the whole file), `Err(())` when unsatisfiable.
fn parse_range(header: &HeaderValue, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Ok(v) = header.to_str() else { return Ok(None) };
    let Some(spec) = v.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    // Digits only (RFC 9110 §14.1.2): Rust's integer parsing would also take "+1".
    if !a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()) {
        return Err(());
    }
    let (start, end) = if a.is_empty() {
        let suffix: u64 = b.parse().map_err(|_| ())?;
        if suffix == 0 {
            return Err(());
        }
        (size.saturating_sub(suffix), size.saturating_sub(1))
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse::<u64>().map_err(|_| ())?.min(size.saturating_sub(1))
        };
        (start, end)
    };
    if size == 0 || start >= size || start > end {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// A file found under the root, with what its answers are built from.
struct Found {
    path: PathBuf,
    size: u64,
    mtime: SystemTime,
    /// `mtime` in whole seconds, as HTTP dates carry it.
    mtime_secs: u64,
    tag: String,
    mime: &'static str,
}

impl Found {
    fn new(path: PathBuf, meta: &std::fs::Metadata) -> Self {
        let size = meta.len();
        let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
        let mime = mime_type(&path);
        Self { path, size, mtime, mtime_secs: whole_secs(mtime), tag: etag(mtime, size), mime }
    }
}

impl StaticReply {
    /// The same answer without its body, for HEAD.
    fn without_body(self) -> Self {
        match self {
            Self::Bytes(status, headers, _) | Self::File { status, headers, .. } => {
                Self::Empty(status, headers)
            }
            other => other,
        }
    }
}

/// A header value made of ASCII we formatted ourselves; empty if it somehow is not one.
fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""))
}

/// Whole seconds since the epoch: what an HTTP date can say.
fn whole_secs(date: SystemTime) -> u64 {
    date.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Conditional GET (RFC 9110 §13.2.2): If-None-Match wins over If-Modified-Since.
fn not_modified(req: &HeaderMap, file: &Found) -> bool {
    match req.get(IF_NONE_MATCH) {
        Some(inm) => none_match(inm, &file.tag),
        None => req
            .get(IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| httpdate::parse_http_date(s).ok())
            // A date in the future says nothing about our file (RFC 7232 §3.3 calls it
            // invalid); trusting it would answer 304 to a clock that runs ahead.
            .filter(|since| *since <= SystemTime::now())
            .is_some_and(|since| file.mtime_secs <= whole_secs(since)),
    }
}

/// The byte range asked for: `None` to send the whole file (no `Range`, an `If-Range` that
/// no longer matches, or not one byte range), `Some(Err(()))` when unsatisfiable.
fn requested_range(req: &HeaderMap, file: &Found) -> Option<Result<(u64, u64), ()>> {
    let range = req.get(RANGE)?;
    let if_range_ok = req.get(IF_RANGE).is_none_or(|v| {
        v.to_str().is_ok_and(|s| {
            s.trim() == file.tag
                || httpdate::parse_http_date(s).is_ok_and(|d| whole_secs(d) == file.mtime_secs)
        })
    });
    if !if_range_ok {
        return None;
    }
    parse_range(range, file.size).transpose()
}

impl StaticFiles {
    pub fn new(cfg: StaticConfig) -> Self {
        Self { cfg, cache: Arc::default() }
    }

    pub fn prefix(&self) -> &str {
        &self.cfg.prefix
    }

    /// Resolves `path` (without query); `Ok(None)` when no file is there, so PHP answers.
    fn resolve(&self, url_path: &str) -> Result<Option<Found>, ()> {
        let Some(rest) = url_path.strip_prefix(self.cfg.prefix.as_str()).or_else(|| {
            // "/assets" (without the slash) for the prefix "/assets/".
            (url_path.len() + 1 == self.cfg.prefix.len() && self.cfg.prefix.starts_with(url_path))
                .then_some("")
        }) else {
            return Ok(None);
        };
        let rel = relative_path(rest)?;
        let joined = self.cfg.root.join(&rel);
        let Ok(real) = std::fs::canonicalize(&joined) else { return Ok(None) };
        if !real.starts_with(&self.cfg.root) {
            return Err(()); // a symlink out of the root
        }
        match std::fs::metadata(&real) {
            // "/index.txt/" names a directory that is not there, not the file.
            Ok(m) if m.is_file() && !rest.ends_with('/') => Ok(Some(Found::new(real, &m))),
            _ => Ok(None),
        }
    }

    /// The answer for a GET or HEAD of a file under the prefix, or `None` to let PHP answer.
    pub fn serve(&self, method: &Method, url_path: &str, req: &HeaderMap) -> Option<StaticReply> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        if !url_path.starts_with(self.cfg.prefix.trim_end_matches('/')) {
            return None;
        }
        let file = match self.resolve(url_path) {
            Ok(Some(found)) => found,
            Ok(None) => return None,
            Err(()) => return Some(StaticReply::NotFound),
        };
        let reply = self.answer(file, req);
        Some(if method == Method::HEAD { reply.without_body() } else { reply })
    }

    /// The answer for a GET of `file`: 304, 416, a range, the cached Brotli variant or the
    /// whole file.
    fn answer(&self, file: Found, req: &HeaderMap) -> StaticReply {
        let compressible = encoding::is_compressible(Some(&HeaderValue::from_static(file.mime)));
        let mut h = self.validators(&file);
        if compressible {
            encoding::add_vary_accept_encoding(&mut h);
        }
        if not_modified(req, &file) {
            return StaticReply::Empty(StatusCode::NOT_MODIFIED, h);
        }
        h.insert(CONTENT_TYPE, HeaderValue::from_static(file.mime));
        match requested_range(req, &file) {
            Some(Err(())) => {
                h.insert(CONTENT_RANGE, header_value(&format!("bytes */{}", file.size)));
                h.remove(CONTENT_TYPE);
                return StaticReply::Empty(StatusCode::RANGE_NOT_SATISFIABLE, h);
            }
            Some(Ok((start, end))) => {
                let len = end - start + 1;
                h.insert(CONTENT_RANGE, header_value(&format!("bytes {start}-{end}/{}", file.size)));
                h.insert(CONTENT_LENGTH, HeaderValue::from(len));
                let (status, path) = (StatusCode::PARTIAL_CONTENT, file.path);
                return StaticReply::File { status, headers: h, path, offset: start, len };
            }
            None => {}
        }
        if compressible && encoding::negotiate(req.get(http::header::ACCEPT_ENCODING)) == Coding::Brotli {
            if let Some(br) = self.cached_brotli(&file.path, file.mtime, file.size) {
                h.insert(CONTENT_ENCODING, HeaderValue::from_static("br"));
                h.insert(CONTENT_LENGTH, HeaderValue::from(br.len() as u64));
                return StaticReply::Bytes(StatusCode::OK, h, br);
            }
            self.compress_later(file.path.clone(), file.mtime, file.size);
        }
        h.insert(CONTENT_LENGTH, HeaderValue::from(file.size));
        StaticReply::File { status: StatusCode::OK, headers: h, path: file.path, offset: 0, len: file.size }
    }

    /// The headers every answer for `file` carries, 304 included.
    fn validators(&self, file: &Found) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_str(&self.cfg.cache_control).unwrap_or(HeaderValue::from_static("no-cache")),
        );
        h.insert(ETAG, HeaderValue::from_str(&file.tag).unwrap_or(HeaderValue::from_static("\"0\"")));
        h.insert(LAST_MODIFIED, header_value(&http_date(file.mtime_secs as i64)));
        h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        h
    }

    fn cached_brotli(&self, path: &Path, mtime: SystemTime, size: u64) -> Option<Bytes> {
        let mut c = self.cache.lock();
        c.clock += 1;
        let clock = c.clock;
        let entry = c.entries.get_mut(path)?;
        if entry.mtime != mtime || entry.size != size {
            // The file changed: the variant is stale.
            let stale = entry.data.len();
            c.entries.remove(path);
            c.bytes -= stale;
            return None;
        }
        entry.last_used = clock;
        Some(entry.data.clone())
    }

    /// Compresses the file at Brotli 11 on the blocking pool and caches the result.
    fn compress_later(&self, path: PathBuf, mtime: SystemTime, size: u64) {
        if size > MAX_COMPRESS_SIZE || size as usize > self.cfg.brotli_cache_size {
            return;
        }
        {
            let mut c = self.cache.lock();
            if !c.in_progress.insert(path.clone()) {
                return;
            }
        }
        let cache = Arc::clone(&self.cache);
        let capacity = self.cfg.brotli_cache_size;
        tokio::task::spawn_blocking(move || {
            let result = std::fs::read(&path).and_then(|data| encoding::brotli_max(&data));
            let mut c = cache.lock();
            c.in_progress.remove(&path);
            let Ok(br) = result else { return };
            if br.len() as u64 >= size {
                return; // not worth it
            }
            while c.bytes + br.len() > capacity {
                let Some(oldest) = c.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(p, _)| p.clone())
                else {
                    return;
                };
                if let Some(e) = c.entries.remove(&oldest) {
                    c.bytes -= e.data.len();
                }
            }
            c.clock += 1;
            let clock = c.clock;
            c.bytes += br.len();
            if let Some(old) =
                c.entries.insert(path, CacheEntry { mtime, size, data: Bytes::from(br), last_used: clock })
            {
                c.bytes -= old.data.len();
            }
        });
    }
}

/// Reads `len` bytes of a file from `offset` as a stream of chunks.
pub struct FileBody {
    file: Option<tokio::fs::File>,
    path: PathBuf,
    offset: u64,
    remaining: u64,
    opening: Option<std::pin::Pin<Box<dyn std::future::Future<Output = io::Result<tokio::fs::File>> + Send>>>,
}

impl FileBody {
    pub fn new(path: PathBuf, offset: u64, len: u64) -> Self {
        Self { file: None, path, offset, remaining: len, opening: None }
    }

    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    pub fn poll_chunk(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<io::Result<Bytes>>> {
        use std::task::Poll;
        use tokio::io::{AsyncRead, ReadBuf};
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        if self.file.is_none() {
            let fut = self.opening.get_or_insert_with(|| {
                let path = self.path.clone();
                let offset = self.offset;
                Box::pin(async move {
                    use tokio::io::AsyncSeekExt;
                    let mut f = tokio::fs::File::open(path).await?;
                    if offset > 0 {
                        f.seek(io::SeekFrom::Start(offset)).await?;
                    }
                    Ok(f)
                })
            });
            match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Ok(f)) => {
                    self.opening = None;
                    self.file = Some(f);
                }
            }
        }
        let Some(file) = self.file.as_mut() else { return Poll::Ready(None) };
        let want = self.remaining.min(64 * 1024) as usize;
        let mut buf = vec![0u8; want];
        let mut rb = ReadBuf::new(&mut buf);
        match std::pin::Pin::new(file).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    // The file shrank while we sent it.
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file truncated",
                    ))));
                }
                buf.truncate(n);
                self.remaining -= n as u64;
                Poll::Ready(Some(Ok(Bytes::from(buf))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        assert!(relative_path("a/b.txt").is_ok());
        assert!(relative_path("a/../b").is_err());
        assert!(relative_path("..").is_err());
        assert!(relative_path("%2e%2e/secret").is_err());
        assert!(relative_path("a%2fb").is_err(), "encoded slash");
        assert!(relative_path("a%5cb").is_err(), "encoded backslash");
        assert!(relative_path("a%00b").is_err(), "NUL");
        assert!(relative_path("a%zz").is_err(), "bad escape");
        assert_eq!(relative_path("a%20b.txt").unwrap(), PathBuf::from("a b.txt"));
        assert_eq!(relative_path("x//y/./z").err(), Some(()));
    }

    #[test]
    fn ranges() {
        let hv = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(parse_range(&hv("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(&hv("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(&hv("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(&hv("bytes=50-500"), 100), Ok(Some((50, 99))));
        assert_eq!(parse_range(&hv("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(&hv("bytes=5-2"), 100), Err(()));
        assert_eq!(parse_range(&hv("bytes=-0"), 100), Err(()));
        assert_eq!(parse_range(&hv("bytes=0-1,5-6"), 100), Ok(None), "multiple ranges: whole file");
        assert_eq!(parse_range(&hv("bytes=+1-2"), 100), Err(()), "digits only");
        assert_eq!(parse_range(&hv("bytes=1-+2"), 100), Err(()), "digits only");
        assert_eq!(parse_range(&hv("items=0-1"), 100), Ok(None));
    }

    #[test]
    fn etags_compare_weakly() {
        let tag = "\"1-2-3\"";
        assert!(none_match(&HeaderValue::from_static("\"1-2-3\""), tag));
        assert!(none_match(&HeaderValue::from_static("W/\"1-2-3\""), tag));
        assert!(none_match(&HeaderValue::from_static("\"x\", \"1-2-3\""), tag));
        assert!(none_match(&HeaderValue::from_static("*"), tag));
        assert!(!none_match(&HeaderValue::from_static("\"other\""), tag));
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime_type(Path::new("a.CSS")), "text/css; charset=utf-8");
        assert_eq!(mime_type(Path::new("x.woff2")), "font/woff2");
        assert_eq!(mime_type(Path::new("noext")), "application/octet-stream");
    }
}
