//! State owned by the PHP thread, kept in statics rather than thread-locals.
//!
//! Why: in a shared library every `thread_local!` access goes through `__tls_get_addr`
//! (the general-dynamic TLS model), and the scheduler touches its state a dozen times per
//! request. PHP (NTS) runs all PHP code on one thread, and only that thread reaches the
//! `php` module — Tokio threads never call into it (the rule in docs/architecture.md) — so a plain
//! static holds the state.
//!
//! Invariant: `get()` is called on the PHP thread only. The values inside are `RefCell`s
//! and `Cell`s, so re-entrancy is still checked.

pub struct PhpGlobal<T> {
    value: T,
    /// The thread that first reached the value: the PHP thread. Debug builds check every
    /// later access against it, so a Tokio thread reaching PHP state fails loudly in tests.
    #[cfg(debug_assertions)]
    owner: std::sync::OnceLock<std::thread::ThreadId>,
}

// SAFETY: every access happens on the single PHP thread (module invariant above); no
// other thread ever obtains a reference, so the !Sync contents are never shared.
unsafe impl<T> Sync for PhpGlobal<T> {}

impl<T> PhpGlobal<T> {
    pub const fn new(value: T) -> Self {
        Self {
            value,
            #[cfg(debug_assertions)]
            owner: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self) -> &T {
        #[cfg(debug_assertions)]
        {
            let me = std::thread::current().id();
            debug_assert_eq!(*self.owner.get_or_init(|| me), me, "PHP state reached from another thread");
        }
        &self.value
    }
}
