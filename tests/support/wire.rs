//! HTTP/1.1 responses as they are on the wire: a strict parser whose framing rules
//! (RFC 9112 §6) are assertions, and a raw exchange on a fresh connection.
#![allow(dead_code)] // each test binary uses a different part of the support code

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One HTTP/1.1 response as it is on the wire, checked against the framing rules.
#[derive(Debug, PartialEq)]
pub struct Framed {
    pub status: u16,
    /// "length", "chunked", "none" (no body allowed) or "close" (until EOF).
    pub framing: &'static str,
    pub body: Vec<u8>,
    pub dates: usize,
}

/// Why a response did not parse.
#[derive(Debug)]
pub enum Unframed {
    /// The bytes end inside it: the connection closed mid-response (a stream cut short).
    Cut(&'static str),
    /// It breaks a framing rule.
    Bad(String),
}

impl std::fmt::Display for Unframed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cut(m) => write!(f, "cut short: {m}"),
            Self::Bad(m) => f.write_str(m),
        }
    }
}

impl From<String> for Unframed {
    fn from(m: String) -> Self {
        Self::Bad(m)
    }
}

impl From<&str> for Unframed {
    fn from(m: &str) -> Self {
        Self::Bad(m.to_owned())
    }
}

/// Parses one response from `raw` (starting at `at`) strictly; the rules of RFC 9112 §6
/// are assertions. Returns it and where the next response starts.
pub fn parse_framed(raw: &[u8], at: usize, head_request: bool) -> Result<(Framed, usize), Unframed> {
    let rest = &raw[at..];
    let end = rest.windows(4).position(|w| w == b"\r\n\r\n").ok_or(Unframed::Cut("head"))? + 4;
    let head = std::str::from_utf8(&rest[..end]).map_err(|_| "head is not text")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or(format!("bad status line {status_line:?}"))?;
    let mut cl = Vec::new();
    let mut te = Vec::new();
    let mut dates = 0;
    for line in lines.filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':').ok_or(format!("bad header line {line:?}"))?;
        match k.to_ascii_lowercase().as_str() {
            "content-length" => cl.push(v.trim().to_owned()),
            "transfer-encoding" => te.push(v.trim().to_ascii_lowercase()),
            "date" => dates += 1,
            _ => {}
        }
    }
    if !cl.is_empty() && !te.is_empty() {
        return Err(Unframed::Bad(format!("{status}: both Content-Length and Transfer-Encoding")));
    }
    if cl.len() > 1 || te.len() > 1 {
        return Err(Unframed::Bad(format!("{status}: repeated framing headers {cl:?} {te:?}")));
    }
    let body_start = at + end;
    let no_body = head_request || status < 200 || status == 204 || status == 304;
    if no_body {
        if !te.is_empty() {
            return Err(Unframed::Bad(format!("{status}: Transfer-Encoding on a response without a body")));
        }
        if status == 204 && !cl.is_empty() {
            return Err("204 with Content-Length".into());
        }
        return Ok((Framed { status, framing: "none", body: Vec::new(), dates }, body_start));
    }
    if let Some(len) = cl.first() {
        let len: usize = len.parse().map_err(|_| format!("bad Content-Length {len:?}"))?;
        let body =
            raw.get(body_start..body_start + len).ok_or(Unframed::Cut("body shorter than its length"))?;
        return Ok((Framed { status, framing: "length", body: body.to_vec(), dates }, body_start + len));
    }
    if let Some(te) = te.first() {
        if te != "chunked" {
            return Err(Unframed::Bad(format!("transfer coding {te:?}")));
        }
        let mut body = Vec::new();
        let mut pos = body_start;
        loop {
            let line_end =
                raw[pos..].windows(2).position(|w| w == b"\r\n").ok_or(Unframed::Cut("chunk size line"))?;
            let size_text = std::str::from_utf8(&raw[pos..pos + line_end]).map_err(|_| "chunk size")?;
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| format!("chunk size {size_text:?}"))?;
            pos += line_end + 2;
            if size == 0 {
                match raw.get(pos..pos + 2) {
                    Some(b"\r\n") => {}
                    None => return Err(Unframed::Cut("after the last chunk")),
                    Some(_) => return Err("trailers after the last chunk".into()),
                }
                return Ok((Framed { status, framing: "chunked", body, dates }, pos + 2));
            }
            body.extend_from_slice(raw.get(pos..pos + size).ok_or(Unframed::Cut("chunk"))?);
            match raw.get(pos + size..pos + size + 2) {
                Some(b"\r\n") => {}
                None => return Err(Unframed::Cut("chunk end")),
                Some(_) => return Err("chunk not followed by CRLF".into()),
            }
            pos += size + 2;
        }
    }
    Ok((Framed { status, framing: "close", body: raw[body_start..].to_vec(), dates }, raw.len()))
}

/// Sends `raw` on a fresh connection, half-closes when asked, and reads everything until
/// EOF.
///
/// A half-close ends unfinished requests at once, but hyper takes the client's EOF for
/// the client leaving and may drop an answer not yet written: tests that need every
/// answer ask for `Connection: close` instead.
pub fn exchange(addr: SocketAddr, raw: &[u8], half_close: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(raw);
    if half_close {
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}
