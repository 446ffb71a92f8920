//! A request body's data as hyper gives it, bounded.
//!
//! Owns: taking data frames off hyper's `Incoming` within `max_body_size`, the body's
//! deadline and, for an HTTP/1.1 chunked body, a cap on its framing (`conn::WireCap`).
//! Does not own: where the data goes (`service::read_body` keeps it in memory,
//! `multipart::spool` parses it), the room it takes (`body_memory`).

use bytes::Bytes;
use http_body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;

use super::conn::WireCap;
use super::exchange::BodyError;

/// The data frames of one body, in order.
pub struct DataFrames<'a> {
    body: &'a mut Incoming,
    deadline: Instant,
    limit: u64,
    total: u64,
    cap: Option<&'a WireCap>,
}

impl<'a> DataFrames<'a> {
    /// `body`'s data, failing past `limit` bytes or `deadline`. `cap` bounds its framing
    /// on the wire: given for an HTTP/1.1 body without a length (chunked), where hyper
    /// parses what the client sends between the data (see `WireCap`).
    pub fn new(body: &'a mut Incoming, limit: u64, deadline: Instant, cap: Option<&'a WireCap>) -> Self {
        Self { body, deadline, limit, total: 0, cap }
    }

    /// Whether `body` over `version` needs a `WireCap`: an HTTP/1.1 body without a length.
    /// (A body with one is its bytes on the wire, and a cap would fail it past 1 MiB.)
    pub fn needs_cap(body: &Incoming, version: http::Version) -> bool {
        version < http::Version::HTTP_2 && body.size_hint().exact().is_none()
    }

    /// The next data frame, or `None` at the end of the body; trailers are passed over.
    pub async fn next(&mut self) -> Result<Option<Bytes>, BodyError> {
        loop {
            let frame = match tokio::time::timeout_at(self.deadline, self.body.frame()).await {
                Err(_) => return Err(BodyError::Timeout),
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => return Err(BodyError::Io(e.to_string())),
                Ok(Some(Ok(f))) => f,
            };
            let Ok(data) = frame.into_data() else { continue };
            self.total += data.len() as u64;
            if self.total > self.limit {
                return Err(BodyError::TooLarge);
            }
            if let Some(cap) = self.cap {
                cap.took(data.len() as u64);
            }
            return Ok(Some(data));
        }
    }

    /// The most the body can need: its length when told, else the limit.
    pub fn ceiling(&self) -> usize {
        let most = self.body.size_hint().upper().unwrap_or(self.limit).min(self.limit);
        usize::try_from(most).unwrap_or(usize::MAX)
    }
}
