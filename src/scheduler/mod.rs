//! The Rust half of the fiber bridge: the data structures the PHP thread's scheduler
//! runs on — a timer queue and a FIFO of tasks ready to resume.
//!
//! Owns: ordering and cancellation of deadlines, ready-queue order.
//! Does not own: fibers, callables or any PHP value; entries are plain Rust data whose
//! meaning `php::runtime` gives them.
//!
//! Used on the PHP thread only; nothing here is `Sync`.

mod timer;

pub use timer::{TimerId, TimerQueue};
