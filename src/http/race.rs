//! `first`: the first of two futures to finish, polled in order. It is `tokio::select!`
//! with `biased;` and two branches, without the macro's check of the task's budget.
//!
//! That check reads a thread-local at every poll of the race; in a shared library each
//! read is a call to `__tls_get_addr`. A kept-alive HTTP/1.1 connection polls such races
//! about five times a request (its read, the wait for the answer, the write), and an h2
//! connection at every wake. The futures raced here wait on sockets or channels whose own
//! polls spend the budget, so a busy connection still yields to the others.
//!
//! What the macro's check also did: with the budget spent, a socket's future returns
//! pending (and reschedules the task) while a future that spends none may still finish,
//! and win. Here those are an answer arriving or the shutdown signal, and either outcome
//! is the right one (the answer is taken; a shutdown closes an idle connection, or starts
//! an h2 connection's graceful close).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// Which of the two finished first, with its output.
pub enum First<A, B> {
    Left(A),
    Right(B),
}

/// Polls `left`, then `right` while `left` is pending, at every wake; returns the output
/// of the first to finish (`left` when both are ready). The callers pin the two in their
/// own frame (`pin!`): a race that owned them would move them into its state.
pub fn first<'a, L: Future, R: Future>(
    mut left: Pin<&'a mut L>,
    mut right: Pin<&'a mut R>,
) -> impl Future<Output = First<L::Output, R::Output>> + 'a {
    poll_fn(move |cx| {
        if let Poll::Ready(v) = left.as_mut().poll(cx) {
            return Poll::Ready(First::Left(v));
        }
        right.as_mut().poll(cx).map(First::Right)
    })
}

/// `future`, or never when `enabled` is false (a branch of `select!` with `if`).
pub fn only_if<'a, F: Future>(
    enabled: bool,
    mut future: Pin<&'a mut F>,
) -> impl Future<Output = F::Output> + 'a {
    poll_fn(move |cx| if enabled { future.as_mut().poll(cx) } else { Poll::Pending })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;

    #[tokio::test]
    async fn the_left_wins_when_both_are_ready() {
        let out = first(pin!(async { 1 }), pin!(async { 2 })).await;
        assert!(matches!(out, First::Left(1)));
    }

    #[tokio::test]
    async fn the_right_wins_when_the_left_waits() {
        let out = first(pin!(std::future::pending::<()>()), pin!(async { 2 })).await;
        assert!(matches!(out, First::Right(2)));
    }

    #[tokio::test]
    async fn a_later_wake_polls_both_again() {
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            let _ = tx.send(7);
        });
        let out = first(pin!(std::future::pending::<()>()), pin!(rx)).await;
        assert!(matches!(out, First::Right(Ok(7))));
    }

    #[tokio::test]
    async fn a_disabled_branch_never_finishes() {
        let never = pin!(async { 1 });
        let disabled = pin!(only_if(false, never));
        assert!(matches!(first(disabled, pin!(async { 2 })).await, First::Right(2)));
        assert_eq!(only_if(true, pin!(async { 1 })).await, 1);
    }
}
