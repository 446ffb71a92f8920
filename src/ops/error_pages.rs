//! Error pages from a directory, for the answers the runtime gives itself.
//!
//! Owns: loading `NNN.html` (400–599: `404.html`, `500.html`, `502.html`, `503.html`,
//! `504.html` and any other) once at start, and the body of an own answer — the page when
//! there is one, else the plain text `"503 Service Unavailable\n"`.
//! Not for the application's answers: PHP renders its own errors.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};

use crate::http::HeaderList;

/// The largest page loaded (it is held in memory and sent whole).
pub const MAX_PAGE: u64 = 1 << 20;

/// The pages of the server this process runs, for answers made on the PHP side (a 500
/// for a request the handler left unanswered).
static INSTALLED: parking_lot::RwLock<Option<std::sync::Arc<ErrorPages>>> = parking_lot::RwLock::new(None);

/// Makes `pages` the process's pages (a server starting; before it forks workers).
pub fn install(pages: ErrorPages) {
    *INSTALLED.write() = Some(std::sync::Arc::new(pages));
}

/// The process's pages (none installed: plain text).
pub fn installed() -> std::sync::Arc<ErrorPages> {
    INSTALLED.read().clone().unwrap_or_default()
}

#[derive(Clone, Debug, Default)]
pub struct ErrorPages {
    pages: HashMap<u16, Bytes>,
}

impl ErrorPages {
    /// Loads every `NNN.html` of `dir`; an unreadable or oversized page is an error.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("\"{}\" cannot be read: {e}", dir.display()))?;
        let mut pages = HashMap::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(code) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".html"))
                .and_then(|n| n.parse::<u16>().ok())
                .filter(|c| (400..=599).contains(c))
            else {
                continue;
            };
            let path = entry.path();
            let len = std::fs::metadata(&path).map_err(|e| format!("\"{}\": {e}", path.display()))?.len();
            if len > MAX_PAGE {
                return Err(format!("\"{}\" is larger than {MAX_PAGE} bytes", path.display()));
            }
            let page =
                std::fs::read(&path).map_err(|e| format!("\"{}\" cannot be read: {e}", path.display()))?;
            pages.insert(code, Bytes::from(page));
        }
        Ok(Self { pages })
    }

    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// The body and content type of an answer the runtime gives itself.
    pub fn body(&self, status: StatusCode) -> (HeaderValue, Bytes) {
        match self.pages.get(&status.as_u16()) {
            Some(page) => (HeaderValue::from_static("text/html; charset=utf-8"), page.clone()),
            None => (
                HeaderValue::from_static("text/plain; charset=utf-8"),
                crate::http::answer::plain_text(status),
            ),
        }
    }

    /// `body` as headers (`content-type`) and body.
    pub fn answer(&self, status: StatusCode) -> (HeaderList, Bytes) {
        let (ct, body) = self.body(status);
        let mut h = HeaderList::with_capacity(2);
        h.insert(CONTENT_TYPE, ct);
        (h, body)
    }

    /// A whole answer the runtime gives itself with this page (a master's 502 for a worker
    /// that went away, a 503 for memory running out).
    pub fn response(&self, status: StatusCode) -> crate::http::ResponseStart {
        let (headers, body) = self.answer(status);
        crate::http::ResponseStart::full(status, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_replace_the_plain_text_of_their_status_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("503.html"), "<h1>busy</h1>").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        std::fs::write(dir.path().join("200.html"), "ignored").unwrap();
        let pages = ErrorPages::load(dir.path()).unwrap();
        assert_eq!(pages.len(), 1);
        let (ct, body) = pages.body(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!((ct.to_str().unwrap(), &body[..]), ("text/html; charset=utf-8", &b"<h1>busy</h1>"[..]));
        let (ct, body) = pages.body(StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            (ct.to_str().unwrap(), &body[..]),
            ("text/plain; charset=utf-8", &b"504 Gateway Timeout\n"[..])
        );
    }

    #[test]
    fn an_oversized_page_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("500.html"), vec![b'x'; MAX_PAGE as usize + 1]).unwrap();
        assert!(ErrorPages::load(dir.path()).unwrap_err().contains("larger than"));
        assert!(ErrorPages::load(Path::new("/nonexistent/dir")).is_err());
    }
}
