//! A cancellable min-heap of deadlines.
//!
//! Cancellation is lazy: the entry leaves the map at once and its heap slot is skipped
//! when it surfaces, so `cancel` is O(1) — the framework arms and cancels many cleanup
//! timers. The heap is rebuilt when stale slots outnumber live ones, so it stays bounded.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

pub type TimerId = u64;

pub struct TimerQueue<T> {
    heap: BinaryHeap<Reverse<(Instant, TimerId)>>,
    live: HashMap<TimerId, (Instant, T)>,
    next_id: TimerId,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        Self { heap: BinaryHeap::new(), live: HashMap::new(), next_id: 1 }
    }
}

impl<T> TimerQueue<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms a timer; ids are never reused, so a stale id cannot cancel a newer timer.
    pub fn insert(&mut self, deadline: Instant, value: T) -> TimerId {
        let id = self.next_id;
        self.next_id += 1;
        self.insert_with_id(id, deadline, value);
        id
    }

    /// Re-arms under a known id (a repeating timer keeps its id).
    pub fn insert_with_id(&mut self, id: TimerId, deadline: Instant, value: T) {
        self.heap.push(Reverse((deadline, id)));
        self.live.insert(id, (deadline, value));
        if id >= self.next_id {
            self.next_id = id + 1;
        }
    }

    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        let v = self.live.remove(&id).map(|(_, v)| v);
        if self.heap.len() > 64 && self.heap.len() > 2 * self.live.len() {
            self.compact();
        }
        v
    }

    pub fn contains(&self, id: TimerId) -> bool {
        self.live.contains_key(&id)
    }

    pub fn get_mut(&mut self, id: TimerId) -> Option<&mut T> {
        self.live.get_mut(&id).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// The earliest live deadline.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, id))) = self.heap.peek().copied() {
            match self.live.get(&id) {
                Some((live_at, _)) if *live_at == at => return Some(at),
                _ => {
                    self.heap.pop();
                }
            }
        }
        None
    }

    /// Removes and returns one timer whose deadline is at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(TimerId, T)> {
        loop {
            let Reverse((at, id)) = *self.heap.peek()?;
            if at > now {
                return None;
            }
            self.heap.pop();
            match self.live.get(&id) {
                Some((live_at, _)) if *live_at == at => {
                    return self.live.remove(&id).map(|(_, v)| (id, v));
                }
                _ => continue,
            }
        }
    }

    /// Ids of the live timers whose value matches.
    pub fn ids_where(&self, f: impl Fn(&T) -> bool) -> Vec<TimerId> {
        self.live.iter().filter(|(_, (_, v))| f(v)).map(|(id, _)| *id).collect()
    }

    /// Removes every timer.
    pub fn drain(&mut self) -> impl Iterator<Item = (TimerId, T)> + '_ {
        self.heap.clear();
        self.live.drain().map(|(id, (_, v))| (id, v))
    }

    fn compact(&mut self) {
        self.heap = self.live.iter().map(|(id, (at, _))| Reverse((*at, *id))).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_deadline_order() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new();
        let c = q.insert(t0 + Duration::from_millis(30), "c");
        q.insert(t0 + Duration::from_millis(10), "a");
        q.insert(t0 + Duration::from_millis(20), "b");
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(q.pop_due(t0 + Duration::from_millis(25)).map(|x| x.1), Some("a"));
        assert_eq!(q.pop_due(t0 + Duration::from_millis(25)).map(|x| x.1), Some("b"));
        assert_eq!(q.pop_due(t0 + Duration::from_millis(25)), None);
        assert_eq!(q.cancel(c), Some("c"));
        assert!(q.is_empty());
        assert_eq!(q.next_deadline(), None);
    }

    #[test]
    fn cancelled_timers_never_fire_and_ids_are_not_reused() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new();
        let a = q.insert(t0, 1);
        assert_eq!(q.cancel(a), Some(1));
        let b = q.insert(t0, 2);
        assert_ne!(a, b);
        assert_eq!(q.cancel(a), None, "a stale id cancels nothing");
        assert_eq!(q.pop_due(t0).map(|x| x.1), Some(2));
    }

    #[test]
    fn rearming_under_the_same_id_replaces_the_old_deadline() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new();
        let id = q.insert(t0 + Duration::from_millis(5), "x");
        q.cancel(id);
        q.insert_with_id(id, t0 + Duration::from_millis(50), "y");
        assert_eq!(q.pop_due(t0 + Duration::from_millis(10)), None);
        assert_eq!(q.pop_due(t0 + Duration::from_millis(50)), Some((id, "y")));
    }

    #[test]
    fn heap_stays_bounded_under_churn() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new();
        for i in 0..10_000u64 {
            let id = q.insert(t0 + Duration::from_secs(i), i);
            q.cancel(id);
        }
        assert!(q.heap.len() <= 130, "heap holds {} stale slots", q.heap.len());
    }
}
