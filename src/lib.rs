//! via — a PHP extension that serves HTTP/1.1, HTTP/2 and h2c from PHP callbacks that run
//! in pooled Fibers.
//!
//! Layout (see docs/architecture.md):
//! - `config`, `log`, `http`, `scheduler`, `signal`: the Rust core. It knows nothing of
//!   PHP, owns Tokio, and is tested with `cargo test` over real sockets.
//! - `php`: the only module that touches `ext_php_rs`. It runs on the PHP thread only.
//!
//! The rule: a PHP value never crosses to a Tokio thread, and Tokio never calls PHP.
//! Requests cross as `http::IncomingRequest` (plain owned data) over a channel; answers
//! come back through `http::Reply`.

pub mod config;
pub mod http;
pub mod log;
pub mod scheduler;
pub mod signal;

#[cfg(feature = "php")]
mod php;

/// glibc's malloc serialises frees of memory another thread allocated; requests are
/// allocated on I/O threads and freed on the PHP thread and the other way round.
/// mimalloc frees across threads without a lock (measured in bench/RESULTS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
