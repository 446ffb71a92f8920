//! `Via\Request`: a read-only view of one request, with PHP's array shapes for query,
//! form fields, cookies and uploads built on first use.
//!
//! Owns: the request data handed over by the core (head, body, spooled files — removed
//! when the object dies), lazy PHP conversions, and construction from plain arrays for
//! tests that need no socket.
//! Does not own: parsing rules (`http::form`), reading the body (`http::service`).
//!
//! PHP thread only.

use std::borrow::Cow;
use std::cell::RefCell;
use std::net::SocketAddr;

use bytes::Bytes;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, COOKIE, HOST};
use http::{HeaderMap, Method, Uri, Version};

use super::args::{Array, ByteStr};
use super::convert::{self, PhpBytes, Ret};
use super::errors::{type_name, value_err, zval_bytes};
use crate::config::DEFAULT_MAX_INPUT_VARS;
use crate::http::exchange::BodyRoom;
use crate::http::fields::Headers;
use crate::http::form::{self, FormArray, FormValue};
use crate::http::{IncomingRequest, Reply, RequestBody, RequestHead};
use crate::ops::trace::{hex, Trace};

#[derive(Default)]
struct Cache {
    query: Option<Zval>,
    post: Option<Zval>,
    cookies: Option<Zval>,
}

/// An HTTP request (read-only).
#[php_class]
#[php(name = "Via\\Request")]
#[php(flags = ClassFlags::Final)]
pub struct Request {
    /// The request as the core handed it over, in its box: the object holds a pointer, not
    /// the ~600 bytes of head and body (a copy at each move cost more than the getters'
    /// one indirection).
    incoming: Box<IncomingRequest>,
    /// Whether it came from a connection (else `__construct`): then the local address is
    /// the listener's.
    served: bool,
    max_input_vars: usize,
    post_override: Option<Zval>,
    files_override: Option<Zval>,
    cache: RefCell<Cache>,
    /// The trace the runtime made (for the access log), or one made from the headers when
    /// first asked.
    trace: std::cell::OnceCell<Trace>,
}

fn protocol(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

fn is_urlencoded(headers: &Headers) -> bool {
    headers.first_bytes(&CONTENT_TYPE).and_then(|v| std::str::from_utf8(v).ok()).is_some_and(|ct| {
        ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// Returns `array[$key] ?? $default`, or the whole array when `$key` is null. `method`
/// names the caller in errors.
fn pick(method: &str, array: &Zval, key: Option<&Zval>, default: Option<&Zval>) -> PhpResult<Zval> {
    let Some(key) = key.filter(|k| !k.is_null()) else { return Ok(array.shallow_clone()) };
    let fallback = || default_of(default);
    let Some(ht) = array.array() else { return Ok(fallback()) };
    let found = if let Some(n) = key.long() {
        ht.get_index(n)
    } else {
        let k = zval_bytes(key).ok_or_else(|| {
            super::errors::type_err(format!(
                "Via\\Request::{method}(): Argument #1 ($key) must be of type string|int|null, {} given",
                type_name(key)
            ))
        })?;
        match form::Key::from_bytes(&k) {
            form::Key::Int(n) => ht.get_index(n),
            form::Key::Str(s) => std::str::from_utf8(&s).ok().and_then(|s| ht.get(s)),
        }
    };
    Ok(found.map(Zval::shallow_clone).unwrap_or_else(fallback))
}

/// `$default`, or null when none was given.
fn default_of(default: Option<&Zval>) -> Zval {
    default.map(Zval::shallow_clone).unwrap_or_default()
}

impl Request {
    /// `query()`'s value, or its error (thrown by `convert::or_throw`).
    #[inline(always)]
    fn query_value(&self, key: Option<&Zval>, default: Option<&Zval>) -> PhpResult<Ret> {
        // One value of a request with no query (an action's POST): the default, with no
        // empty array built to find that out. (An invalid key type still errs below.)
        let no_query = self.head().uri.query().is_none_or(str::is_empty);
        if no_query && key.is_some_and(|k| k.is_string() || k.is_long()) {
            return Ok(Ret(default_of(default)));
        }
        pick("query", &self.query_array()?, key, default).map(Ret)
    }

    /// `post()`'s value, or its error (thrown by `convert::or_throw`).
    #[inline(always)]
    fn post_value(&self, key: Option<&Zval>, default: Option<&Zval>) -> PhpResult<Ret> {
        pick("post", &self.post_array()?, key, default).map(Ret)
    }

    /// `input()`'s value, or its error (thrown by `convert::or_throw`).
    #[inline(always)]
    fn input_value(&self, key: &Zval, default: Option<&Zval>) -> PhpResult<Ret> {
        let missing = Zval::new();
        let from_post = pick("input", &self.post_array()?, Some(key), Some(&missing))?;
        if !from_post.is_null() {
            return Ok(Ret(from_post));
        }
        pick("input", &self.query_array()?, Some(key), default).map(Ret)
    }

    /// `cookie()`'s value, or its error (thrown by `convert::or_throw`).
    #[inline(always)]
    fn cookie_value(&self, name: Option<&Zval>, default: Option<&Zval>) -> PhpResult<Ret> {
        // One cookie by a name that is a string: found in the fields, with no array built
        // (a framework asks for its session cookie on every request).
        let unbuilt = self.cache.borrow().cookies.is_none();
        if let (true, Some(key)) = (unbuilt, name.and_then(Zval::zend_str)) {
            let cookies = self.head().headers.all(&COOKIE);
            match form::find_cookie(cookies, key.as_bytes(), self.max_input_vars) {
                form::CookieLookup::Found(v) => return Ok(Ret(convert::bytes(&v))),
                form::CookieLookup::Missing => return Ok(Ret(default_of(default))),
                form::CookieLookup::Complex => {}
            }
        }
        pick("cookie", &self.cookie_array()?, name, default).map(Ret)
    }

    fn trace(&self) -> &Trace {
        self.trace.get_or_init(|| Trace::from_headers(&self.head().headers))
    }

    /// The PHP view of `incoming`, whose reply is returned for the response (the request
    /// keeps an empty one).
    pub fn from_incoming(mut incoming: Box<IncomingRequest>, max_input_vars: usize) -> (Self, Reply) {
        let reply = std::mem::take(&mut incoming.reply);
        let trace = incoming.head.trace.take().map(std::cell::OnceCell::from).unwrap_or_default();
        let request = Self {
            incoming,
            served: true,
            max_input_vars,
            post_override: None,
            files_override: None,
            cache: RefCell::default(),
            trace,
        };
        (request, reply)
    }

    fn head(&self) -> &RequestHead {
        &self.incoming.head
    }

    /// The raw body ("" for multipart, as php://input).
    fn raw_body(&self) -> &[u8] {
        match &self.incoming.body {
            RequestBody::Bytes(b) => b,
            RequestBody::Empty | RequestBody::Multipart { .. } => &[],
        }
    }

    fn cached(
        &self,
        slot: fn(&mut Cache) -> &mut Option<Zval>,
        build: impl FnOnce() -> PhpResult<ZBox<ZendHashTable>>,
    ) -> PhpResult<Zval> {
        if let Some(z) = slot(&mut self.cache.borrow_mut()) {
            return Ok(z.shallow_clone());
        }
        let z = build()?.into_zval(false)?;
        *slot(&mut self.cache.borrow_mut()) = Some(z.shallow_clone());
        Ok(z)
    }

    fn post_array(&self) -> PhpResult<Zval> {
        if let Some(z) = &self.post_override {
            return Ok(z.shallow_clone());
        }
        self.cached(
            |c| &mut c.post,
            || {
                if let RequestBody::Multipart { fields, .. } = &self.incoming.body {
                    let mut arr = FormArray::default();
                    for (name, value) in fields {
                        arr.register(name.as_bytes(), FormValue::Bytes(value.to_vec()), false);
                    }
                    convert::form_array(&arr)
                } else if is_urlencoded(&self.head().headers) {
                    let parsed = form::parse_urlencoded(self.raw_body(), self.max_input_vars);
                    if parsed.truncated {
                        crate::warn!(
                            "request {}: more than {} form fields; the rest was ignored",
                            self.head().id,
                            self.max_input_vars
                        );
                    }
                    convert::form_array(&parsed.vars)
                } else {
                    convert::form_array(&FormArray::default())
                }
            },
        )
    }

    fn query_array(&self) -> PhpResult<Zval> {
        self.cached(
            |c| &mut c.query,
            || {
                let parsed = form::parse_urlencoded(
                    self.head().uri.query().unwrap_or("").as_bytes(),
                    self.max_input_vars,
                );
                convert::form_array(&parsed.vars)
            },
        )
    }

    fn cookie_array(&self) -> PhpResult<Zval> {
        self.cached(
            |c| &mut c.cookies,
            || {
                let mut joined = Vec::new();
                for (i, v) in self.head().headers.all(&COOKIE).enumerate() {
                    if i > 0 {
                        joined.extend_from_slice(b"; ");
                    }
                    joined.extend_from_slice(v);
                }
                convert::form_array(&form::parse_cookies(&joined, self.max_input_vars).vars)
            },
        )
    }

    fn files_array(&self) -> PhpResult<ZBox<ZendHashTable>> {
        if let Some(z) = self.files_override.as_ref().and_then(Zval::array) {
            return Ok(z.to_owned());
        }
        let mut arr = FormArray::default();
        let files = match &self.incoming.body {
            RequestBody::Multipart { files, .. } => &files[..],
            RequestBody::Empty | RequestBody::Bytes(_) => &[],
        };
        for f in files {
            let field = f.field.as_bytes();
            let path = f.path.to_string_lossy();
            let attrs = [
                ("name", FormValue::Bytes(f.name.clone().into_bytes())),
                ("full_path", FormValue::Bytes(f.full_path.clone().into_bytes())),
                ("type", FormValue::Bytes(f.content_type.clone().into_bytes())),
                ("tmp_name", FormValue::Bytes(path.as_bytes().to_vec())),
                ("error", FormValue::Int(f.error)),
                ("size", FormValue::Int(f.size as i64)),
            ];
            for (attr, value) in attrs {
                form::register_file_attribute(&mut arr, field, attr, value);
            }
        }
        convert::form_array(&arr)
    }
}

fn init_error(msg: impl std::fmt::Display) -> ext_php_rs::exception::PhpException {
    value_err(format!("Via\\Request::__construct(): {msg}"))
}

/// A string value of the init array: UTF-8 without NUL bytes (a method, a URI, an
/// address — none can hold one).
fn init_str(v: &Zval, key: &str) -> PhpResult<String> {
    let s = v
        .zend_str()
        .ok_or_else(|| init_error(format!("\"{key}\" must be a string, {} given", type_name(v))))?;
    let s = std::str::from_utf8(s.as_bytes())
        .map_err(|_| init_error(format!("\"{key}\" must be valid UTF-8")))?;
    if s.contains('\0') {
        return Err(init_error(format!("\"{key}\" must not contain any null bytes")));
    }
    Ok(s.to_owned())
}

/// The keys `Request::__construct` accepts, for its error message.
const INIT_KEYS: &str = "method, uri, protocol, headers, body, remote_addr, remote_port, scheme, post, files";

/// What `Request::__construct` builds a request from: the values of its array, with the
/// defaults of a plain local GET.
struct Init {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
    remote_ip: std::net::IpAddr,
    remote_port: u16,
    tls: bool,
    post: Option<Zval>,
    files: Option<Zval>,
}

impl Default for Init {
    fn default() -> Self {
        Self {
            method: Method::GET,
            uri: Uri::from_static("/"),
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            remote_ip: [127, 0, 0, 1].into(),
            remote_port: 0,
            tls: false,
            post: None,
            files: None,
        }
    }
}

impl Init {
    /// Takes one key of the array.
    fn set(&mut self, key: &str, v: &Zval) -> PhpResult<()> {
        match key {
            "method" => {
                let m = init_str(v, key)?;
                self.method = Method::from_bytes(m.as_bytes())
                    .map_err(|_| init_error(format!("invalid method \"{m}\"")))?;
            }
            "uri" => {
                let u = init_str(v, key)?;
                self.uri = u.parse().map_err(|_| init_error(format!("invalid uri \"{u}\"")))?;
            }
            "protocol" => {
                self.version = match init_str(v, key)?.trim_start_matches("HTTP/") {
                    "1.0" => Version::HTTP_10,
                    "1.1" => Version::HTTP_11,
                    "2" | "2.0" => Version::HTTP_2,
                    other => return Err(init_error(format!("unknown protocol \"{other}\""))),
                }
            }
            "headers" => self.add_headers(v)?,
            "body" => {
                let b = v.zend_str().ok_or_else(|| {
                    init_error(format!("\"body\" must be a string, {} given", type_name(v)))
                })?;
                self.body = Bytes::copy_from_slice(b.as_bytes());
            }
            "remote_addr" => {
                let a = init_str(v, key)?;
                self.remote_ip = a.parse().map_err(|_| init_error(format!("invalid remote_addr \"{a}\"")))?;
            }
            "remote_port" => {
                self.remote_port = v
                    .long()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| init_error("\"remote_port\" must be an int between 0 and 65535"))?
            }
            "scheme" => {
                self.tls = match init_str(v, key)?.as_str() {
                    "http" => false,
                    "https" => true,
                    other => {
                        return Err(init_error(format!(
                            "scheme must be \"http\" or \"https\", \"{other}\" given"
                        )))
                    }
                }
            }
            "post" => self.post = Some(init_array(v, key)?),
            "files" => self.files = Some(init_array(v, key)?),
            other => return Err(init_error(format!("unknown key \"{other}\"; known keys are {INIT_KEYS}"))),
        }
        Ok(())
    }

    /// The "headers" key: name => a string or a list of strings.
    fn add_headers(&mut self, v: &Zval) -> PhpResult<()> {
        let ht = v.array().ok_or_else(|| init_error("\"headers\" must be an array"))?;
        for (name, value) in ht.iter() {
            let name = name.to_string();
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| init_error(format!("invalid header name \"{name}\"")))?;
            let values: Vec<&Zval> = match value.array() {
                Some(list) => list.values().collect(),
                None => vec![value],
            };
            for one in values {
                self.headers.append(header.clone(), init_header_value(&name, one)?);
            }
        }
        Ok(())
    }

    fn into_request(mut self) -> Request {
        if !self.headers.contains_key(HOST) && self.uri.authority().is_none() {
            self.headers.insert(HOST, HeaderValue::from_static("localhost"));
        }
        let head = RequestHead {
            id: 0,
            method: self.method,
            uri: self.uri,
            version: self.version,
            headers: self.headers.into(),
            remote: SocketAddr::new(self.remote_ip, self.remote_port),
            local: SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), 0),
            tls: self.tls,
            trace: None,
        };
        let incoming = IncomingRequest {
            head,
            body: RequestBody::Bytes(self.body),
            body_room: BodyRoom::default(),
            reply: Reply::default(),
        };
        Request {
            incoming: Box::new(incoming),
            served: false,
            max_input_vars: DEFAULT_MAX_INPUT_VARS,
            post_override: self.post,
            files_override: self.files,
            cache: RefCell::default(),
            trace: std::cell::OnceCell::new(),
        }
    }
}

fn init_header_value(name: &str, v: &Zval) -> PhpResult<HeaderValue> {
    let b = zval_bytes(v).ok_or_else(|| {
        init_error(format!("value of header \"{name}\" must be a string, {} given", type_name(v)))
    })?;
    HeaderValue::from_bytes(&b).map_err(|_| init_error(format!("invalid value for header \"{name}\"")))
}

/// An array value of the init array ("post", "files"), kept as given.
fn init_array(v: &Zval, key: &str) -> PhpResult<Zval> {
    if !v.is_array() {
        return Err(init_error(format!("\"{key}\" must be an array")));
    }
    Ok(v.shallow_clone())
}

/// The plain getters run without ext-php-rs's bailout guard (`no_bailout_guard`): they
/// hold nothing that needs dropping while their result becomes a PHP value.
#[php_impl]
impl Request {
    /// Builds a request from plain values, for tests: keys method, uri, protocol ("1.0",
    /// "1.1", "2"), headers (name => string|list), body, remote_addr, remote_port, scheme
    /// ("http"|"https"), post (array, replaces the parsed body), files ($_FILES shape).
    ///
    /// @throws \ValueError for an unknown key or an invalid value
    pub fn __construct(init: Option<Array>) -> PhpResult<Self> {
        let mut values = Init::default();
        if let Some(init) = init {
            for (key, v) in init.iter() {
                values.set(&key.to_string(), v)?;
            }
        }
        Ok(values.into_request())
    }

    /// A number unique to this request within the server run (0 for constructed ones).
    #[php(no_bailout_guard)]
    pub fn id(&self) -> i64 {
        self.head().id as i64
    }

    /// The method as sent, e.g. "GET", "POST", "QUERY".
    #[php(no_bailout_guard)]
    pub fn method(&self) -> &str {
        self.head().method.as_str()
    }

    /// The request target: path and query as sent ("/a/b?x=1").
    #[php(no_bailout_guard)]
    pub fn target(&self) -> String {
        match self.head().uri.path_and_query() {
            Some(pq) => pq.as_str().to_owned(),
            None => self.head().uri.to_string(),
        }
    }

    /// The path without the query string, not percent-decoded ("/a%20b").
    #[php(no_bailout_guard)]
    pub fn path(&self) -> &str {
        self.head().uri.path()
    }

    /// The raw query string without "?" ("" when there is none).
    #[php(no_bailout_guard)]
    pub fn query_string(&self) -> &str {
        self.head().uri.query().unwrap_or("")
    }

    /// The parsed query string (PHP's $_GET shape: a[]=1&b[x]=2), or one value of it.
    pub fn query(&self, key: Option<&Zval>, default: Option<&Zval>) -> Ret {
        convert::or_throw(self.query_value(key, default))
    }

    /// The parsed body fields (urlencoded or multipart; PHP's $_POST shape), or one value.
    pub fn post(&self, key: Option<&Zval>, default: Option<&Zval>) -> Ret {
        convert::or_throw(self.post_value(key, default))
    }

    /// A body field, else a query parameter, else $default (POST wins, as in $_REQUEST).
    pub fn input(&self, key: &Zval, default: Option<&Zval>) -> Ret {
        convert::or_throw(self.input_value(key, default))
    }

    /// Uploaded files in PHP's $_FILES shape (name, full_path, type, tmp_name, error,
    /// size). The temporary files are removed when the request object is destroyed:
    /// rename() what you want to keep.
    pub fn files(&self) -> PhpResult<ZBox<ZendHashTable>> {
        self.files_array()
    }

    /// The cookies (PHP's $_COOKIE rules), or one of them.
    pub fn cookie(&self, name: Option<&Zval>, default: Option<&Zval>) -> Ret {
        convert::or_throw(self.cookie_value(name, default))
    }

    /// One header, case-insensitive; repeated values joined with ", " ("; " for Cookie).
    #[php(no_bailout_guard)]
    pub fn header(&self, name: ByteStr) -> Option<PhpBytes<'_>> {
        let mut values = self.head().headers.all_named(&name);
        let first = values.next()?;
        let Some(second) = values.next() else { return Some(PhpBytes(Cow::Borrowed(first))) };
        let sep: &[u8] = if name.eq_ignore_ascii_case(b"cookie") { b"; " } else { b", " };
        let mut joined = [first, sep, second].concat();
        for v in values {
            joined.extend_from_slice(sep);
            joined.extend_from_slice(v);
        }
        Some(PhpBytes(Cow::Owned(joined)))
    }

    /// Every value of one header, in order.
    pub fn header_values(&self, name: ByteStr) -> PhpResult<ZBox<ZendHashTable>> {
        let mut list = ZendHashTable::new();
        for v in self.head().headers.all_named(&name) {
            list.push(convert::bytes(v))?;
        }
        Ok(list)
    }

    /// Whether a header is present (case-insensitive).
    #[php(no_bailout_guard)]
    pub fn has_header(&self, name: ByteStr) -> bool {
        self.head().headers.all_named(&name).next().is_some()
    }

    /// All headers: lower-case name => value (repeated values joined).
    pub fn headers(&self) -> PhpResult<ZBox<ZendHashTable>> {
        convert::header_map(self.head().headers.map(), true)
    }

    /// The raw body, binary-safe ("" for multipart/form-data, as php://input).
    #[php(no_bailout_guard)]
    pub fn body(&self) -> PhpBytes<'_> {
        PhpBytes(Cow::Borrowed(self.raw_body()))
    }

    /// The W3C trace id (32 hex digits): the caller's, from a valid `traceparent` header,
    /// else a new one. The access log records the same.
    pub fn trace_id(&self) -> String {
        self.trace().trace_id_hex()
    }

    /// This server's span id for the request (16 hex digits).
    pub fn span_id(&self) -> String {
        self.trace().span_id_hex()
    }

    /// The caller's span id from a valid `traceparent` header, or null.
    pub fn parent_span_id(&self) -> Option<String> {
        self.trace().parent_id.map(|p| hex(&p))
    }

    /// The `traceparent` value for calls this request makes (its trace, this server's
    /// span), e.g. "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".
    pub fn traceparent(&self) -> String {
        self.trace().traceparent()
    }

    /// The client's `X-Request-Id` when it is a short token (1–128 of A-Z a-z 0-9
    /// -_.:+/=@), else the trace id.
    pub fn request_id(&self) -> String {
        self.trace().request_id()
    }

    /// The client's IP address (behind a proxy listed in `trusted_proxies`: the address it
    /// forwarded).
    #[php(no_bailout_guard)]
    pub fn remote_address(&self) -> String {
        crate::http::ip_text(self.head().remote.ip())
    }

    /// The client's port.
    #[php(no_bailout_guard)]
    pub fn remote_port(&self) -> i64 {
        i64::from(self.head().remote.port())
    }

    /// "1.0", "1.1" or "2".
    #[php(no_bailout_guard)]
    pub fn protocol_version(&self) -> &'static str {
        protocol(self.head().version)
    }

    /// "https" when the connection used TLS, else "http".
    #[php(no_bailout_guard)]
    pub fn scheme(&self) -> &'static str {
        if self.head().tls {
            "https"
        } else {
            "http"
        }
    }

    /// The Host header (HTTP/1) or :authority (HTTP/2).
    #[php(no_bailout_guard)]
    pub fn host(&self) -> String {
        let head = self.head();
        head.uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| head.headers.first_bytes(&HOST).map(|h| String::from_utf8_lossy(h).into_owned()))
            .unwrap_or_default()
    }

    /// A $_SERVER-like array (REQUEST_METHOD, REQUEST_URI, QUERY_STRING, SERVER_PROTOCOL,
    /// REMOTE_ADDR, REMOTE_PORT, SERVER_ADDR, SERVER_PORT, HTTPS, CONTENT_TYPE,
    /// CONTENT_LENGTH, HTTP_*), for libraries that build PSR-7 requests from it.
    pub fn server(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut ht = ZendHashTable::new();
        let head = self.head();
        ht.insert("REQUEST_METHOD", head.method.as_str())?;
        ht.insert("REQUEST_URI", self.target())?;
        ht.insert("QUERY_STRING", self.query_string())?;
        ht.insert("SERVER_PROTOCOL", format!("HTTP/{}", protocol(head.version)))?;
        ht.insert("REMOTE_ADDR", self.remote_address())?;
        ht.insert("REMOTE_PORT", self.remote_port())?;
        if self.served {
            ht.insert("SERVER_ADDR", crate::http::ip_text(head.local.ip()))?;
            ht.insert("SERVER_PORT", i64::from(head.local.port()))?;
        }
        if head.tls {
            ht.insert("HTTPS", "on")?;
        }
        let headers = head.headers.map();
        for name in headers.keys() {
            let joined: Vec<&[u8]> = headers.get_all(name).iter().map(HeaderValue::as_bytes).collect();
            let sep: &[u8] = if name == COOKIE { b"; " } else { b", " };
            let value = convert::bytes(&joined.join(sep));
            let key = match name.as_str() {
                "content-type" => "CONTENT_TYPE".to_owned(),
                "content-length" => "CONTENT_LENGTH".to_owned(),
                n => format!("HTTP_{}", n.to_ascii_uppercase().replace('-', "_")),
            };
            ht.insert(key, value)?;
        }
        Ok(ht)
    }
}
