//! Multi-process servers: a master that owns the network and routes to workers that run
//! PHP, and a forker that forks the workers. See docs/architecture.md ("Processes").
//!
//! - `forker`: forked before the master has threads; forks every worker (and a spare of
//!   itself), reports exits.
//! - `forkers`: the master's active forker and its spare; promotion when the active dies.
//! - `reaper`: the master as the subreaper of what a dead forker leaves; how a child ended.
//! - `master`: routing (affinity cookie), links to workers, supervision (one module each).
//! - `link`: a worker's end of its link; the PHP side sees requests as in one process.

pub mod forker;
pub mod forkers;
pub mod link;
pub mod master;
pub mod reaper;
