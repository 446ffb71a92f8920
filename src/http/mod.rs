//! The HTTP core: HTTP/1.1 and h2c on hyper, with limits, timeouts and graceful drain.
//!
//! Knows nothing of PHP. The application receives `IncomingRequest`s through a
//! `Dispatcher` and answers through their `Reply`; the PHP runtime and the Rust tests use
//! exactly the same path.

pub mod answer;
pub mod balance;
pub mod body;
pub mod brotli_stream;
pub mod conn;
pub mod cookie;
pub mod driven;
pub mod encoding;
pub mod exchange;
pub mod fields;
pub mod form;
pub mod framing;
pub mod gzip_stream;
pub mod h1;
pub mod head_checks;
pub mod header_list;
pub mod in_place;
pub mod multipart;
pub mod outbox;
pub mod race;
pub mod server;
pub mod service;
pub mod sse;
pub mod static_files;
pub mod stats;
pub mod stream;
pub mod stream_conn;
pub mod timer;
pub mod tls;
pub mod topics;
pub mod wake_batch;

pub use exchange::{
    Dispatcher, IncomingRequest, Reply, RequestBody, RequestHead, ResponseBodySource, ResponseStart,
    UploadedFile,
};
pub use header_list::HeaderList;
pub use outbox::Outbox;
pub use server::{ServerHandle, StartError};
pub use stats::{Stats, StatsSnapshot};
pub use stream::{PushOutcome, StreamAborted, StreamClosed, StreamEvent, StreamEvents, StreamShared};
pub use topics::Topics;
