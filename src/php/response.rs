//! `Via\Response`: status, headers, cookies, a whole body or a stream.
//!
//! Owns: the PHP class and its arguments, and write backpressure (a writer that outpaces
//! its client waits for the queue to drain).
//! Does not own: the response state machine (`response_core`), the bytes on the wire
//! (the HTTP core frames, chunks and compresses).
//!
//! PHP thread only. No `RefCell` borrow of a core is held across a call into PHP or a
//! suspension.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};
use http::header::{HeaderName, HeaderValue, LOCATION, SET_COOKIE};
use http::StatusCode;

use super::args::{Array, Bool, ByteStr, Int};
use super::errors::{type_name, value_err, via_err};
use super::field_cache::{self, Refused};
use super::response_core::{
    finalize_default, NoEvents, Phase, ResponseCore, WRITE_HIGH_WATER, WRITE_LOW_WATER,
};
use super::runtime::{self, Wake};
use crate::http::cookie::{self, CookieOptions, SameSite};
use crate::http::{ResponseBodySource, StreamShared};

/// An HTTP response. Obtained in a request handler; `new Via\Response()` makes a detached
/// one (no connection) whose status, headers and body can be inspected, for tests.
#[php_class]
#[php(name = "Via\\Response")]
#[php(flags = ClassFlags::Final)]
pub struct Response {
    pub(crate) core: Rc<RefCell<ResponseCore>>,
}

impl Response {
    pub fn from_core(core: Rc<RefCell<ResponseCore>>) -> Self {
        Self { core }
    }

    fn unsent(&self, method: &str) -> PhpResult<()> {
        match self.core.borrow().phase {
            Phase::Pending => Ok(()),
            _ => Err(via_err(format!(
                "Via\\Response::{method}(): headers were already sent; set status, headers and cookies before the first write()"
            ))),
        }
    }

    /// Waits while more than the high-water mark is queued for a slow client, until the
    /// queue is down to the low-water mark. A client that takes nothing of the queue for
    /// `write_timeout` is cut off; one that takes chunks, however slowly, is waited for.
    /// The connection's own write timeout does not see every such client: an HTTP/2 client
    /// that grants the stream no window keeps its socket writable, and held the task (and
    /// its queued megabyte) for good.
    fn backpressure(&self, stream: &Arc<StreamShared>, queued: usize) {
        if queued <= WRITE_HIGH_WATER {
            return;
        }
        let Some(services) = self.core.borrow().services.clone() else { return };
        // Progress is chunks taken, not the bytes queued: another task writing to this
        // response could keep those up while the client reads steadily.
        let mut taken = stream.taken();
        // Each turn waits for the low-water mark, or one `write_timeout`. A `Drained` left
        // from an earlier drain (another task writes to this response too), or a timeout
        // that passed while the loop was busy after the client had drained the queue, only
        // makes it look again.
        while stream.notify_when_drained(WRITE_LOW_WATER) {
            let Ok(waiter) = runtime::waiter() else { return };
            runtime::wait_on(stream.id(), waiter);
            match runtime::park(waiter, Some(services.write_timeout)) {
                Ok(Wake::Timeout) => {
                    let now = stream.taken();
                    if now == taken {
                        services.stats.write_timeouts.fetch_add(1, Ordering::Relaxed);
                        crate::debug!(
                            "cutting off streamed response {}: its client took nothing",
                            stream.id()
                        );
                        stream.abort();
                        return;
                    }
                    taken = now;
                }
                Ok(_) => taken = stream.taken(),
                Err(_) => return,
            }
        }
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        // After its task, the last holder of a response ends it. An event stream's object
        // (kept by its topics) holds it too, and ends it when the stream ends.
        let running = self.core.borrow().task_running;
        if !running && Rc::strong_count(&self.core) == 1 {
            finalize_default(&self.core);
        }
    }
}

const HEADER_NAME: &str = "Via\\Response::header(): Argument #1 ($name)";
const HEADER_VALUE: &str = "Via\\Response::header(): Argument #2 ($value)";

fn header_name(bytes: &[u8], what: &str) -> PhpResult<HeaderName> {
    HeaderName::from_bytes(bytes).map_err(|_| bad_name(bytes, what))
}

fn bad_name(bytes: &[u8], what: &str) -> PhpException {
    value_err(format!(
        "{what} must be a valid header name (RFC 9110 token), \"{}\" given",
        String::from_utf8_lossy(bytes)
    ))
}

fn header_value(bytes: &[u8], what: &str) -> PhpResult<HeaderValue> {
    HeaderValue::from_bytes(bytes).map_err(|_| bad_value(what))
}

fn bad_value(what: &str) -> PhpException {
    value_err(format!("{what} must not contain CR, LF or NUL"))
}

fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn cookie_options(options: Option<Array>) -> PhpResult<CookieOptions> {
    const WHAT: &str = "Via\\Response::cookie(): Argument #3 ($options)";
    let mut o = CookieOptions::default();
    let Some(options) = options else { return Ok(o) };
    for (key, value) in options.iter() {
        let key = key.to_string();
        let want_bool = |v: &Zval| -> PhpResult<bool> {
            v.bool()
                .ok_or_else(|| value_err(format!("{WHAT} \"{key}\" must be a bool, {} given", type_name(v))))
        };
        let want_string = |v: &Zval| -> PhpResult<String> {
            let s = v.zend_str().ok_or_else(|| {
                value_err(format!("{WHAT} \"{key}\" must be a string, {} given", type_name(v)))
            })?;
            std::str::from_utf8(s.as_bytes())
                .map(str::to_owned)
                .map_err(|_| value_err(format!("{WHAT} \"{key}\" must be valid UTF-8")))
        };
        let want_int = |v: &Zval| -> PhpResult<i64> {
            v.long()
                .ok_or_else(|| value_err(format!("{WHAT} \"{key}\" must be an int, {} given", type_name(v))))
        };
        match key.to_ascii_lowercase().as_str() {
            "expires" => o.expires = want_int(value)?,
            "max_age" | "max-age" => o.max_age = Some(want_int(value)?),
            "path" => o.path = want_string(value)?,
            "domain" => o.domain = want_string(value)?,
            "secure" => o.secure = want_bool(value)?,
            "httponly" => o.http_only = want_bool(value)?,
            "samesite" => {
                let s = want_string(value)?;
                o.same_site = Some(SameSite::parse(&s).ok_or_else(|| {
                    value_err(format!("{WHAT} \"samesite\" must be \"Strict\", \"Lax\" or \"None\", \"{s}\" given"))
                })?);
            }
            "partitioned" => o.partitioned = want_bool(value)?,
            "raw" => o.raw = want_bool(value)?,
            _ => {
                return Err(value_err(format!(
                    "{WHAT} has an unknown key \"{key}\"; known keys are expires, max_age, path, domain, secure, httponly, samesite, partitioned, raw"
                )))
            }
        }
    }
    Ok(o)
}

/// `status()`, `header()` and `end()` — called for nearly every answer — run without
/// ext-php-rs's bailout guard (`no_bailout_guard`, decision 0015): they make no PHP value
/// while they hold the core's borrow.
#[php_impl]
impl Response {
    /// Creates a detached response that is not connected to a client. Everything it
    /// is given can be read back with getStatus(), getHeaders() and getBody().
    pub fn __construct() -> Self {
        Self { core: Rc::new(RefCell::new(ResponseCore::detached())) }
    }

    /// Sets the status code (200–999) and optionally a reason phrase. The reason is bytes,
    /// written as given on HTTP/1.1 (any byte but control characters: CR, LF, NUL…; tab
    /// is allowed); HTTP/2 has no reason phrase.
    ///
    /// @throws \ValueError for a code outside 200–999 or a reason with control characters
    /// @throws \Via\Exception once headers were sent
    #[php(no_bailout_guard)]
    pub fn status<'a>(
        self_: &'a mut ZendClassObject<Response>,
        code: Int,
        reason: Option<ByteStr>,
    ) -> PhpResult<&'a mut ZendClassObject<Response>> {
        let code = *code;
        self_.unsent("status")?;
        let status = u16::try_from(code)
            .ok()
            .filter(|c| (200..=999).contains(c))
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or_else(|| {
                value_err(format!(
                    "Via\\Response::status(): Argument #1 ($code) must be between 200 and 999, {code} given"
                ))
            })?;
        let reason = match reason {
            Some(r) if r.iter().any(|&b| b != b'\t' && (b < 0x20 || b == 0x7f)) => {
                return Err(value_err(
                    "Via\\Response::status(): Argument #2 ($reason) must not contain control characters",
                ))
            }
            Some(r) => Some(Bytes::copy_from_slice(&r)),
            None => None,
        };
        {
            let mut c = self_.core.borrow_mut();
            c.status = status;
            c.reason = reason;
            c.status_set = true;
        }
        Ok(self_)
    }

    /// The status code set so far (200 by default).
    pub fn get_status(&self) -> i64 {
        i64::from(self.core.borrow().status.as_u16())
    }

    /// Sets a header, replacing earlier values of the same name unless $replace is false
    /// (then the value is added: repeated headers such as Set-Cookie).
    ///
    /// @throws \ValueError for an invalid name or a value with CR, LF or NUL
    /// @throws \Via\Exception once headers were sent
    #[php(defaults(replace = true))]
    #[php(no_bailout_guard)]
    pub fn header<'a>(
        self_: &'a mut ZendClassObject<Response>,
        name: ByteStr,
        value: ByteStr,
        replace: Bool,
    ) -> PhpResult<&'a mut ZendClassObject<Response>> {
        let replace = *replace;
        self_.unsent("header")?;
        {
            let mut c = self_.core.borrow_mut();
            let field = match &c.services {
                Some(s) => s.fields.borrow_mut().field(&name, &value),
                None => field_cache::parse(&name, &value),
            };
            let (name, value) = match field {
                Ok(f) => f,
                Err(Refused::Name) => return Err(bad_name(&name, HEADER_NAME)),
                Err(Refused::Value) => return Err(bad_value(HEADER_VALUE)),
            };
            if replace {
                c.headers.insert(name, value);
            } else {
                c.headers.append(name, value);
            }
        }
        Ok(self_)
    }

    /// Removes every value of a header.
    ///
    /// @throws \Via\Exception once headers were sent
    pub fn remove_header<'a>(
        self_: &'a mut ZendClassObject<Response>,
        name: ByteStr,
    ) -> PhpResult<&'a mut ZendClassObject<Response>> {
        self_.unsent("removeHeader")?;
        let name = header_name(&name, "Via\\Response::removeHeader(): Argument #1 ($name)")?;
        self_.core.borrow_mut().headers.remove(&name);
        Ok(self_)
    }

    /// The values of one header joined with ", ", or null.
    pub fn get_header(&self, name: ByteStr) -> PhpResult<Option<String>> {
        let name = header_name(&name, "Via\\Response::getHeader(): Argument #1 ($name)")?;
        let c = self.core.borrow();
        let values: Vec<String> =
            c.headers.get_all(&name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
        Ok((!values.is_empty()).then(|| values.join(", ")))
    }

    /// All headers not yet sent: lower-case name => list of values.
    pub fn get_headers(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let c = self.core.borrow();
        super::convert::header_list(&c.headers)
    }

    /// Adds a Set-Cookie header. Options: expires (Unix time), max_age, path, domain,
    /// secure, httponly, samesite ("Strict"|"Lax"|"None"), partitioned, raw (send the
    /// value without URL-encoding). An empty value deletes the cookie, as setcookie() does.
    ///
    /// @throws \ValueError for an invalid name, value or option
    /// @throws \Via\Exception once headers were sent
    pub fn cookie<'a>(
        self_: &'a mut ZendClassObject<Response>,
        name: ByteStr,
        value: Option<ByteStr>,
        options: Option<Array>,
    ) -> PhpResult<&'a mut ZendClassObject<Response>> {
        self_.unsent("cookie")?;
        let value: &[u8] = value.as_deref().unwrap_or_default();
        let options = cookie_options(options)?;
        let line = cookie::build(&name, value, &options, now_unix())
            .map_err(|e| value_err(format!("Via\\Response::cookie(): {e}")))?;
        let v =
            HeaderValue::from_str(&line).map_err(|_| value_err("Via\\Response::cookie(): invalid cookie"))?;
        self_.core.borrow_mut().headers.append(SET_COOKIE, v);
        Ok(self_)
    }

    /// Sends a chunk at once: status and headers go out with the first write (chunked on
    /// HTTP/1.1, DATA frames on HTTP/2). Waits (inside a task) while a slow client has
    /// more than 1 MiB queued; one that takes nothing for `write_timeout` is cut off.
    /// Returns false once the client is gone or cut off.
    ///
    /// @throws \Via\Exception after end()
    pub fn write(&self, data: ByteStr) -> PhpResult<bool> {
        let chunk = Bytes::copy_from_slice(&data);
        let stream = {
            let mut c = self.core.borrow_mut();
            match &c.phase {
                Phase::Ended => {
                    return Err(via_err("Via\\Response::write(): the response has already ended"));
                }
                Phase::Streaming(s) => Arc::clone(s),
                Phase::Pending if c.is_detached() => {
                    c.captured.extend_from_slice(&chunk);
                    c.phase = Phase::Streaming(StreamShared::new(NoEvents::shared()));
                    return Ok(true);
                }
                Phase::Pending => {
                    let events =
                        c.services.as_ref().map_or_else(|| NoEvents::shared(), |s| Arc::clone(&s.events));
                    let s = StreamShared::new(events);
                    if !c.start(ResponseBodySource::stream(Arc::clone(&s))) {
                        s.close();
                    }
                    c.phase = Phase::Streaming(Arc::clone(&s));
                    s
                }
            }
        };
        if self.core.borrow().is_detached() {
            self.core.borrow_mut().captured.extend_from_slice(&chunk);
            return Ok(true);
        }
        match stream.push(chunk) {
            Ok(queued) => {
                self.backpressure(&stream, queued);
                Ok(!stream.is_closed())
            }
            Err(_) => Ok(false),
        }
    }

    /// Sends the last (or only) part of the body and ends the response. The handler may
    /// keep running afterwards (background work). Returns false if the client is gone.
    ///
    /// @throws \Via\Exception when the response has already ended
    #[php(no_bailout_guard)]
    pub fn end(&self, data: Option<ByteStr>) -> PhpResult<bool> {
        let body = data.map_or_else(Bytes::new, |d| Bytes::copy_from_slice(&d));
        let mut c = self.core.borrow_mut();
        match &c.phase {
            Phase::Ended => Err(via_err("Via\\Response::end(): the response has already ended")),
            Phase::Pending => Ok(c.send_full(body)),
            Phase::Streaming(s) => {
                let s = Arc::clone(s);
                if c.is_detached() {
                    c.captured.extend_from_slice(&body);
                    c.phase = Phase::Ended;
                    return Ok(true);
                }
                let ok = body.is_empty() || s.push(body).is_ok();
                s.finish();
                c.phase = Phase::Ended;
                Ok(ok && !s.is_closed())
            }
        }
    }

    /// Redirects: sets Location and the status (302 by default) and ends.
    ///
    /// @throws \ValueError for a status that is not 3xx or a URL with CR, LF or NUL
    /// @throws \Via\Exception once headers were sent
    #[php(defaults(status = 302))]
    pub fn redirect(&self, url: ByteStr, status: Int) -> PhpResult<bool> {
        let status = *status;
        self.unsent("redirect")?;
        let code = u16::try_from(status)
            .ok()
            .filter(|c| (300..=399).contains(c))
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or_else(|| {
                value_err(format!(
                    "Via\\Response::redirect(): Argument #2 ($status) must be a 3xx code, {status} given"
                ))
            })?;
        let location = header_value(&url, "Via\\Response::redirect(): Argument #1 ($url)")?;
        let mut c = self.core.borrow_mut();
        c.status = code;
        c.status_set = true;
        c.headers.insert(LOCATION, location);
        Ok(c.send_full(Bytes::new()))
    }

    /// Whether a write would still reach the client.
    pub fn is_writable(&self) -> bool {
        self.core.borrow().is_writable()
    }

    /// Whether status and headers were sent (after the first write() or end()).
    pub fn headers_sent(&self) -> bool {
        !matches!(self.core.borrow().phase, Phase::Pending)
    }

    /// Whether end() (or redirect()) was called.
    pub fn is_ended(&self) -> bool {
        matches!(self.core.borrow().phase, Phase::Ended)
    }

    /// Turns the response into a Server-Sent Events stream: sets Content-Type
    /// text/event-stream, Cache-Control no-cache and X-Accel-Buffering no, sends the headers
    /// at once, and returns the stream. $retry (ms) tells clients how long to wait before
    /// reconnecting. Compression (Brotli or gzip, as the client accepts), heartbeats and
    /// backpressure follow the server's options.
    ///
    /// @throws \Via\Exception once headers were sent
    pub fn sse(&self, retry: Option<Int>) -> PhpResult<super::sse::Sse> {
        let retry = match retry.map(|r| *r) {
            Some(r) if r < 0 => {
                return Err(value_err(format!(
                    "Via\\Response::sse(): Argument #1 ($retry) must be >= 0, {r} given"
                )))
            }
            r => r.map(|r| r as u64),
        };
        super::sse::open(Rc::clone(&self.core), retry)
    }

    /// The body written so far — detached responses only (a connected response does not
    /// keep what it sent).
    pub fn get_body(&self) -> Binary<u8> {
        Binary::from(self.core.borrow().captured.clone())
    }
}
