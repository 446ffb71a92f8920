//! Sticky routing: a request goes to the worker its affinity cookie names, or (first
//! contact) to the next worker in turn, which the answer's cookie then names. A request for
//! a worker that is (re)starting waits in its slot until the replacement is ready.
//!
//! Owns: the slots (the routed process of each worker index and the requests held for it),
//! the cookie, and a request's wire form (uploaded files change hands here).
//! Does not own: the link a request is sent on (`conn`), who replaces a worker
//! (`supervisor`).
//!
//! Invariant: a request is queued on a link only under its slot's `current` lock, and the
//! supervisor replaces a worker and tells it to leave under the same lock, so a worker
//! never gets a request after its Shutdown (it would have drained and gone).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use parking_lot::Mutex;

use super::conn::{Conn, Pending};
use super::Master;
use crate::http::exchange::RequestBody;
use crate::http::fields::Headers;
use crate::http::IncomingRequest;
use crate::ipc::{WireBody, WireFile, WireRequest};

/// Requests held for a worker index whose process is (re)starting.
const MAX_WAITING: usize = 4096;

/// Marks a held request that must get the affinity cookie (never sent to a worker).
const COOKIE_MARK: HeaderName = HeaderName::from_static("x-via-internal-affinity");

/// One worker index.
#[derive(Default)]
pub(super) struct Slot {
    /// The process routed to; `None` while there is none (starting, or it died).
    pub(super) current: Mutex<Option<Arc<Conn>>>,
    /// Requests held until a process is ready.
    pub(super) waiting: Mutex<VecDeque<Box<IncomingRequest>>>,
}

impl Slot {
    /// Routes this index to nobody if `conn` is its process; true if it was.
    pub(super) fn forget(&self, conn: &Arc<Conn>) -> bool {
        let mut current = self.current.lock();
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *current = None;
            return true;
        }
        false
    }

    /// The requests held for this index, to send or to refuse.
    pub(super) fn take_waiting(&self) -> VecDeque<Box<IncomingRequest>> {
        std::mem::take(&mut *self.waiting.lock())
    }
}

impl Master {
    /// The worker index named by the request's affinity cookie, if valid.
    fn affinity(&self, headers: &Headers) -> Option<u32> {
        let name = self.cfg.cookie.as_bytes();
        for v in headers.all(&http::header::COOKIE) {
            for part in v.split(|&b| b == b';') {
                let part = part.trim_ascii();
                let Some(rest) = part.strip_prefix(name) else { continue };
                let Some(value) = rest.strip_prefix(b"=") else { continue };
                let n: u32 = std::str::from_utf8(value).ok()?.parse().ok()?;
                return (n < self.cfg.workers).then_some(n);
            }
        }
        None
    }

    pub(super) fn set_cookie(&self, headers: &mut crate::http::HeaderList, index: u32) {
        if let Some(Some(v)) = self.cookies.get(index as usize) {
            headers.append(http::header::SET_COOKIE, v.clone());
        }
    }

    /// Sends `req` to its worker, or holds it until that worker is ready; gives it back if
    /// it cannot be served (its worker is leaving, or too many wait).
    pub(super) fn route(&self, mut req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        // The mark is the master's own note on a held request; a client that sends it is
        // not believed (it would choose the cookie its answer sets).
        if req.head.headers.contains(&COOKIE_MARK) {
            req.head.headers.map_mut().remove(COOKIE_MARK);
        }
        let (index, cookie) = match self.affinity(&req.head.headers) {
            Some(i) => (i, None),
            None => {
                let i = (self.rr.fetch_add(1, Ordering::Relaxed) % self.cfg.workers as usize) as u32;
                (i, Some(i))
            }
        };
        let slot = &self.slots[index as usize];
        // Sent under `current`'s lock (module invariant).
        let current = slot.current.lock();
        match current.as_ref() {
            Some(c) if c.is_leaving() => Err(req),
            Some(c) if !c.is_dead() => {
                send_request(c, req, cookie);
                Ok(())
            }
            _ => {
                drop(current);
                hold(slot, req, cookie)
            }
        }
    }
}

/// The `Set-Cookie` value that routes a browser to worker `index`.
/// (`None` if the configured name cannot be in a header; the configuration refuses such
/// names, so no cookie is sent only if that check was bypassed.)
pub(super) fn cookie_value(cfg: &super::MasterConfig, index: u32) -> Option<HeaderValue> {
    let secure = if cfg.secure_cookie { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{}={index}; Path=/; HttpOnly; SameSite=Lax{secure}", cfg.cookie)).ok()
}

/// Keeps `req` in `slot` until its next process is ready.
fn hold(slot: &Slot, mut req: Box<IncomingRequest>, cookie: Option<u32>) -> Result<(), Box<IncomingRequest>> {
    let mut waiting = slot.waiting.lock();
    if waiting.len() >= MAX_WAITING {
        return Err(req);
    }
    // Remember the cookie decision in the request itself: a marker header the master
    // strips again before sending.
    if let Some(i) = cookie {
        if let Ok(v) = HeaderValue::from_str(&i.to_string()) {
            req.head.headers.map_mut().insert(COOKIE_MARK, v);
        }
    }
    waiting.push_back(req);
    Ok(())
}

/// Sends `req` on `conn`; its answer gets the affinity cookie `cookie` (or the one a held
/// request was marked with).
pub(super) fn send_request(conn: &Conn, req: Box<IncomingRequest>, cookie: Option<u32>) {
    let IncomingRequest { mut head, body, body_room, reply } = *req;
    // Only a held request carries the mark: looking first builds no map for the others.
    let cookie = cookie.or_else(|| {
        let marked = head.headers.contains(&COOKIE_MARK);
        marked
            .then(|| head.headers.map_mut().remove(COOKIE_MARK))?
            .and_then(|v| v.to_str().ok()?.parse().ok())
    });
    let (body, files) = wire_body(body);
    conn.request(Pending { reply, cookie, files, _body_room: body_room }, WireRequest { head, body });
}

/// The body's wire form, and the uploaded files the worker owns from here on (removed by
/// the master if the worker dies first).
fn wire_body(body: RequestBody) -> (WireBody, Vec<PathBuf>) {
    let (fields, uploads) = match body {
        RequestBody::Empty => return (WireBody::Empty, Vec::new()),
        RequestBody::Bytes(b) => return (WireBody::Bytes(b), Vec::new()),
        RequestBody::Multipart { fields, files } => (fields, files),
    };
    let mut paths = Vec::with_capacity(uploads.len());
    let files = uploads
        .into_iter()
        .map(|mut f| {
            // The worker owns the file now: keep this value's Drop from removing it.
            let path = std::mem::take(&mut f.path);
            paths.push(path.clone());
            WireFile {
                field: Bytes::from(std::mem::take(&mut f.field)),
                name: Bytes::from(std::mem::take(&mut f.name)),
                full_path: Bytes::from(std::mem::take(&mut f.full_path)),
                content_type: Bytes::from(std::mem::take(&mut f.content_type)),
                path: Bytes::from(path.into_os_string().into_encoded_bytes()),
                size: f.size,
                error: f.error,
            }
        })
        .collect();
    let fields = fields.into_iter().map(|(k, v)| (Bytes::from(k), v)).collect();
    (WireBody::Multipart { fields, files }, paths)
}
