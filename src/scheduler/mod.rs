//! The Rust half of the fiber bridge: the data structures the PHP thread's scheduler
//! runs on — a timer queue, and a slab of live entries whose ids stay unique (the tasks).
//!
//! Owns: ordering and cancellation of deadlines; ids of live entries.
//! Does not own: fibers, callables or any PHP value; entries are plain Rust data whose
//! meaning `php::runtime` gives them.
//!
//! Used on the PHP thread only; nothing here is `Sync`.

mod slab;
mod timer;

pub use slab::Slab;
pub use timer::{TimerId, TimerQueue};
