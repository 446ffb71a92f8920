//! via — a PHP extension that serves HTTP/1.1, HTTP/2 and h2c from PHP callbacks that run
//! in pooled Fibers.
//!
//! Layout (see docs/architecture.md):
//! - The Rust core knows nothing of PHP, owns Tokio, and is tested with `cargo test` over
//!   real sockets and real forks:
//!   - `config` (server options), `log`, `pid` (this process's id, cached across forks),
//!     `signal` (SIGTERM/SIGINT/SIGUSR1 as events), `shutdown` (the one stop signal a
//!     process's tasks share);
//!   - `http` (listener, hyper, the event-stream path, TLS, compression, static files,
//!     topics) and `scheduler` (timers of the PHP loop, in plain Rust);
//!   - `inbox` (requests and events handed to the PHP thread, one wake per I/O tick);
//!   - `table` (shared-memory rows across forks), `ipc` (the master↔worker frames),
//!     `workers` (master, forker and worker roles), `broker` (Redis and NATS connections
//!     shared by servers).
//! - `php`: the only module that touches `ext_php_rs`. It runs on the PHP thread, except the
//!   dispatchers the HTTP core calls with plain data.
//!
//! Process roles (`workers` = 1: one process, no IPC):
//! - **master** — the process that called `Via\Server::start()`; with workers > 1 it runs
//!   only Rust: the listener, HTTP, TLS, streams, routing by affinity cookie, supervision;
//! - **forker** — forked before the master has a thread, single-threaded, forks every
//!   worker (and its own spare: decision 0009);
//! - **worker** — one PHP thread with the scheduler, which also runs its link to the master
//!   (decision 0016), serving what the master routes to it.
//!
//! The rule: a PHP value never crosses to a Tokio thread, and Tokio never calls PHP.
//! Requests cross as `http::IncomingRequest` (plain owned data) over a channel; answers
//! come back through `http::Reply`.

#[cfg(feature = "mimalloc")]
mod allocator;
pub mod broker;
pub mod buf;
pub mod config;
pub mod cpu_policy;
pub mod http;
pub mod inbox;
pub mod ipc;
pub mod log;
pub mod ops;
pub mod pid;
pub mod scheduler;
pub mod shm;
pub mod shutdown;
pub mod signal;
pub mod table;
pub mod workers;

#[cfg(feature = "php")]
mod php;

/// mimalloc, entered by its plain functions where they suffice (`allocator`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: allocator::Mimalloc = allocator::Mimalloc;
