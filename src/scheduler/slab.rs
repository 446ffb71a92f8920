//! Live entries under ids that stay unique: a slab of slots, each with a generation.
//!
//! Every request is a task, so the scheduler adds one, looks it up several times (to give
//! it a fiber, to resume it, to take its job) and removes it for each request. A hash map
//! hashed and probed on each of those; here an id is a slot's index and its generation,
//! and a lookup is an index and one comparison.
//!
//! An id is `generation << 32 | index`. A slot's generation grows each time it is freed,
//! so an id held after its entry was removed (a stale waiter, a timer's last run) finds
//! nothing, even once the slot holds another entry. Generations start at 1, so no id is 0
//! (the scheduler's id of the main script). A slot whose generation would wrap is never
//! used again.

pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Free slots, the one freed last on top: it is the one likeliest still in the cache.
    free: Vec<u32>,
    len: usize,
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self { slots: Vec::new(), free: Vec::new(), len: 0 }
    }
}

fn id(generation: u32, index: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(index)
}

fn split(id: u64) -> (u32, usize) {
    ((id >> 32) as u32, (id & 0xffff_ffff) as usize)
}

/// The slot `id` names, if it is still that entry's (same generation). Over the slots alone,
/// so that `remove` can free the slot's index while it holds the slot.
#[inline]
fn slot_mut<T>(slots: &mut [Slot<T>], id: u64) -> Option<&mut Slot<T>> {
    let (generation, index) = split(id);
    slots.get_mut(index).filter(|s| s.generation == generation)
}

impl<T> Slab<T> {
    /// Stores `value` and returns its id.
    pub fn insert(&mut self, value: T) -> u64 {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            return id(slot.generation, index);
        }
        let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 live entries");
        self.slots.push(Slot { generation: 1, value: Some(value) });
        id(1, index)
    }

    #[inline]
    fn slot(&self, id: u64) -> Option<&Slot<T>> {
        let (generation, index) = split(id);
        self.slots.get(index).filter(|s| s.generation == generation)
    }

    #[inline]
    pub fn get(&self, id: u64) -> Option<&T> {
        self.slot(id)?.value.as_ref()
    }

    #[inline]
    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        slot_mut(&mut self.slots, id)?.value.as_mut()
    }

    pub fn contains(&self, id: u64) -> bool {
        self.get(id).is_some()
    }

    /// Takes the entry out; its id finds nothing from then on.
    pub fn remove(&mut self, id: u64) -> Option<T> {
        let slot = slot_mut(&mut self.slots, id)?;
        let value = slot.value.take()?;
        self.len -= 1;
        if let Some(next) = slot.generation.checked_add(1) {
            slot.generation = next;
            self.free.push(split(id).1 as u32);
        }
        Some(value)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.value.as_ref())
    }

    /// Takes every entry out (each id finds nothing from then on).
    pub fn drain(&mut self) -> Vec<T> {
        let ids: Vec<u64> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.value.is_some())
            .map(|(i, s)| id(s.generation, i as u32))
            .collect();
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// Every entry, the slab gone (the fatal path forgets them).
    pub fn into_values(self) -> impl Iterator<Item = T> {
        self.slots.into_iter().filter_map(|s| s.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_zero_and_find_their_entries() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        let b = slab.insert("b");
        assert!(a != 0 && b != 0 && a != b);
        assert_eq!(slab.get(a), Some(&"a"));
        assert_eq!(slab.get(b), Some(&"b"));
        assert_eq!(slab.len(), 2);
        *slab.get_mut(b).unwrap() = "B";
        assert_eq!(slab.remove(b), Some("B"));
        assert_eq!(slab.len(), 1);
        assert!(!slab.is_empty());
    }

    #[test]
    fn a_removed_id_finds_nothing_even_when_its_slot_is_reused() {
        let mut slab = Slab::default();
        let old = slab.insert(1);
        assert_eq!(slab.remove(old), Some(1));
        let new = slab.insert(2);
        assert_ne!(old, new, "the reused slot has a new generation");
        assert_eq!(split(old).1, split(new).1, "the freed slot is reused");
        assert_eq!(slab.get(old), None);
        assert_eq!(slab.get_mut(old), None);
        assert!(!slab.contains(old));
        assert_eq!(slab.remove(old), None);
        assert_eq!(slab.get(new), Some(&2));
        assert_eq!(slab.remove(new), Some(2));
        assert_eq!(slab.remove(new), None, "removed once only");
        assert!(slab.is_empty());
    }

    #[test]
    fn an_id_outside_the_slab_finds_nothing() {
        let mut slab: Slab<u8> = Slab::default();
        assert_eq!(slab.get(0), None);
        assert_eq!(slab.get(u64::MAX), None);
        assert_eq!(slab.remove(id(1, 7)), None);
        assert_eq!(slab.len(), 0);
    }

    #[test]
    fn a_slot_whose_generation_would_wrap_is_retired() {
        let mut slab = Slab::default();
        let a = slab.insert(1);
        slab.slots[0].generation = u32::MAX;
        let last = id(u32::MAX, split(a).1 as u32);
        assert_eq!(slab.remove(last), Some(1));
        assert!(slab.free.is_empty(), "not reused: the next generation would be 0");
        let b = slab.insert(2);
        assert_eq!(split(b).1, 1, "a new slot");
        assert_eq!(slab.get(last), None);
    }

    #[test]
    fn drain_and_values_see_the_live_entries_only() {
        let mut slab = Slab::default();
        let ids: Vec<u64> = (0..5).map(|i| slab.insert(i)).collect();
        slab.remove(ids[1]);
        slab.remove(ids[3]);
        let mut seen: Vec<i32> = slab.values().copied().collect();
        seen.sort();
        assert_eq!(seen, [0, 2, 4]);
        let mut drained = slab.drain();
        drained.sort();
        assert_eq!(drained, [0, 2, 4]);
        assert!(slab.is_empty());
        assert!(ids.iter().all(|&id| slab.get(id).is_none()));
        let again = slab.insert(9);
        assert!(!ids.contains(&again), "a drained id is not handed out again");
        assert_eq!(slab.into_values().collect::<Vec<_>>(), [9]);
    }
}
