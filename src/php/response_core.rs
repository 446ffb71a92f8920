//! The state of one response, apart from its PHP class (`response`): what `Via\Response`
//! and `Via\SSE` both act on.
//!
//! Owns: the response state machine (pending → streaming → ended), what happens when a
//! handler returns without ending (explicit status → that status, else 500 with a log
//! line), what an exception means for a response (500, or an aborted stream), and write
//! its high and low water marks.
//! Does not own: the PHP classes and their arguments (`response`, `sse`), the bytes on the wire (the HTTP core frames, chunks and compresses).
//!
//! PHP thread only. No `RefCell` borrow of a core is held across a call into PHP or a
//! suspension.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use ext_php_rs::types::Zval;
use http::header::HeaderValue;
use http::StatusCode;

use crate::http::HeaderList;

use super::answers;
use super::runtime::{self, TaskOwner};
use super::services::Services;
use crate::http::{Dispatcher, Reply, ResponseBodySource, ResponseStart, StreamShared};

/// Above this many queued bytes `write()` waits for the client to catch up.
pub const WRITE_HIGH_WATER: usize = 1024 * 1024;
/// … and resumes once the queue is down to this.
pub const WRITE_LOW_WATER: usize = 256 * 1024;

pub(super) enum Phase {
    Pending,
    Streaming(Arc<StreamShared>),
    Ended,
}

/// Request headers an event stream needs.
#[derive(Default)]
pub struct StreamContext {
    pub last_event_id: Option<HeaderValue>,
    pub accept_encoding: Option<HeaderValue>,
}

pub struct ResponseCore {
    pub(crate) status: StatusCode,
    pub(super) reason: Option<Bytes>,
    pub(super) status_set: bool,
    pub(crate) headers: HeaderList,
    pub(super) phase: Phase,
    pub(super) reply: Option<Reply>,
    pub(crate) services: Option<Rc<Services>>,
    pub(crate) stream_context: StreamContext,
    /// A detached response keeps its body for inspection.
    pub(super) captured: Vec<u8>,
    pub(super) task_running: bool,
    /// Method and target, for log lines (formatted only when something is logged).
    origin: Option<(http::Method, http::Uri)>,
}

impl ResponseCore {
    pub fn bound(
        reply: Reply,
        services: Rc<Services>,
        method: http::Method,
        uri: http::Uri,
        stream_context: StreamContext,
    ) -> Self {
        Self {
            reply: Some(reply),
            services: Some(services),
            stream_context,
            task_running: true,
            origin: Some((method, uri)),
            ..Self::detached()
        }
    }

    /// `METHOD /target` for log lines.
    fn label(&self) -> String {
        match &self.origin {
            Some((m, u)) => format!("{m} {}", u.path_and_query().map_or("/", |p| p.as_str())),
            None => "detached response".into(),
        }
    }

    pub(super) fn detached() -> Self {
        Self {
            status: StatusCode::OK,
            reason: None,
            status_set: false,
            headers: HeaderList::new(),
            phase: Phase::Pending,
            reply: None,
            services: None,
            stream_context: StreamContext::default(),
            captured: Vec::new(),
            task_running: false,
            origin: None,
        }
    }

    pub(crate) fn is_detached(&self) -> bool {
        self.services.is_none()
    }

    /// Sends status and headers. A detached response keeps them for inspection.
    pub(crate) fn start(&mut self, body: ResponseBodySource) -> bool {
        if matches!(body, ResponseBodySource::Stream { .. }) {
            self.keep_nothing_of_the_head();
        }
        let Some(reply) = self.reply.take() else { return self.is_detached() };
        let start = ResponseStart {
            status: self.status,
            reason: self.reason.take(),
            headers: std::mem::take(&mut self.headers),
            body,
        };
        answers::send(reply, start)
    }

    /// The response lives on as a stream, for hours maybe: what it kept of the request's
    /// head goes, or is copied out. (Its target and the stream's header values were slices
    /// of the head's buffer, which they held whole: over HTTP/2, where HPACK sends a
    /// repeated header as one byte, a client had ~8 KB held per stream for 41 bytes sent.)
    fn keep_nothing_of_the_head(&mut self) {
        self.stream_context = StreamContext::default();
        if let Some((_, uri)) = &mut self.origin {
            let target = uri.path_and_query().map_or("/", |p| p.as_str());
            *uri =
                http::Uri::from_maybe_shared(Bytes::copy_from_slice(target.as_bytes())).unwrap_or_default();
        }
    }

    pub(crate) fn headers_sent(&self) -> bool {
        !matches!(self.phase, Phase::Pending)
    }

    /// Starts a streamed body (an event stream when `heartbeat` is set). `false` when
    /// the client is already gone.
    pub(crate) fn start_stream(
        &mut self,
        stream: Arc<StreamShared>,
        heartbeat: Option<std::time::Duration>,
    ) -> bool {
        let ok = self.start(ResponseBodySource::Stream { stream: Arc::clone(&stream), heartbeat });
        self.phase = Phase::Streaming(stream);
        ok
    }

    /// A detached response becomes a stream whose chunks are captured.
    pub(crate) fn mark_streaming_detached(&mut self) {
        self.phase = Phase::Streaming(StreamShared::new(NoEvents::shared()));
    }

    pub(crate) fn capture(&mut self, bytes: &[u8]) {
        self.captured.extend_from_slice(bytes);
    }

    /// Sends status and headers with `body` and ends. `false` when the client is gone.
    pub(super) fn send_full(&mut self, body: Bytes) -> bool {
        // A `Content-Length` PHP set is the framing rules' to drop or keep (a HEAD answer
        // with no body keeps it: `http::framing`).
        if self.is_detached() {
            self.captured.extend_from_slice(&body);
        }
        let ok = self.start(ResponseBodySource::Full(body));
        self.phase = Phase::Ended;
        ok
    }

    /// An answer the runtime gives for the application (the server's error page for the
    /// status, or plain text).
    fn send_error(&mut self, status: StatusCode) {
        self.status = status;
        self.reason = None;
        let (headers, body) = crate::ops::error_pages::installed().answer(status);
        self.headers = headers;
        self.send_full(body);
    }

    pub(super) fn is_writable(&self) -> bool {
        match &self.phase {
            Phase::Pending => self.is_detached() || self.reply.as_ref().is_some_and(Reply::is_open),
            Phase::Streaming(s) => !s.is_closed(),
            Phase::Ended => false,
        }
    }
}

/// A response whose handler returned (or whose object died) without `end()`.
pub(super) fn finalize_default(core: &Rc<RefCell<ResponseCore>>) {
    let mut c = core.borrow_mut();
    match &c.phase {
        Phase::Pending if c.reply.is_none() => {}
        Phase::Pending if c.status_set => {
            c.send_full(Bytes::new());
        }
        Phase::Pending => {
            crate::warn!("{}: the handler returned without calling end(); answering 500", c.label());
            c.send_error(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Phase::Streaming(s) => {
            s.finish();
            c.phase = Phase::Ended;
        }
        Phase::Ended => {}
    }
}

/// A request task serves its response: its end decides the response's.
impl TaskOwner for RefCell<ResponseCore> {
    /// The handler returned (unended and unreferenced: the default answer) or threw (500).
    fn task_ended(self: Rc<Self>, exception: Option<&Zval>) {
        self.borrow_mut().task_running = false;
        if let Some(e) = exception {
            let label = self.borrow().label();
            crate::error!("{label}: the handler threw {}", runtime::describe_throwable(e));
            self.abandon(StatusCode::INTERNAL_SERVER_ERROR);
        } else if Rc::strong_count(&self) == 1 {
            finalize_default(&self);
        }
    }

    /// Fails the response: `status` if nothing was sent, a reset if a stream was under way.
    fn abandon(&self, status: StatusCode) {
        let mut c = self.borrow_mut();
        match &c.phase {
            Phase::Pending => c.send_error(status),
            Phase::Streaming(s) => {
                s.abort();
                c.phase = Phase::Ended;
            }
            Phase::Ended => {}
        }
    }
}

/// Event sink for streams of detached responses: nobody listens.
pub(crate) struct NoEvents;

impl NoEvents {
    pub(crate) fn shared() -> Arc<dyn Dispatcher> {
        Arc::new(NoEvents)
    }
}

impl Dispatcher for NoEvents {
    fn dispatch(
        &self,
        req: Box<crate::http::IncomingRequest>,
    ) -> Result<(), Box<crate::http::IncomingRequest>> {
        Err(req)
    }
}

impl crate::http::StreamEvents for NoEvents {
    fn stream_event(&self, _: crate::http::StreamEvent) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response that goes on as a stream kept slices of its request's head (its target,
    /// Last-Event-ID, Accept-Encoding), and with them the head's whole buffer.
    #[test]
    fn a_response_that_streams_keeps_nothing_of_the_request_head() {
        let head = Bytes::from(format!("/room?tab=1 {} gzip", "7".repeat(8000)));
        let mut core = ResponseCore::detached();
        let uri = http::Uri::from_maybe_shared(head.slice(0..11)).unwrap();
        core.origin = Some((http::Method::GET, uri));
        core.stream_context = StreamContext {
            last_event_id: Some(HeaderValue::from_maybe_shared(head.slice(12..8012)).unwrap()),
            accept_encoding: Some(HeaderValue::from_maybe_shared(head.slice(8013..)).unwrap()),
        };
        assert!(core.start(ResponseBodySource::stream(StreamShared::new(NoEvents::shared()))));
        assert!(head.is_unique(), "the head's buffer is held by the response");
        assert_eq!(core.label(), "GET /room?tab=1");
    }
}
