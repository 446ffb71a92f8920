//! Multi-process servers: a master that owns the network and routes to workers that run
//! PHP, and a forker that forks the workers. See docs/architecture.md ("Processes").
//!
//! - `forker`: forked before the master has threads; forks every worker, reports exits.
//! - `master`: routing (affinity cookie), links to workers, supervision.
//! - `link`: a worker's end of its link; the PHP side sees requests as in one process.

pub mod forker;
pub mod link;
pub mod master;
