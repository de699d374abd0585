//! A bounded count of things in use (connections), taken without waiting: past the limit the
//! caller refuses at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Up to `limit` slots.
#[derive(Clone, Debug)]
pub(crate) struct Slots(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    taken: AtomicUsize,
    limit: usize,
}

impl Slots {
    pub(crate) fn new(limit: usize) -> Self {
        Slots(Arc::new(Inner {
            taken: AtomicUsize::new(0),
            limit,
        }))
    }

    /// A slot, if one is free; held until the guard is dropped.
    pub(crate) fn try_take(&self) -> Option<Slot> {
        let taken = self.0.taken.fetch_add(1, Ordering::AcqRel);
        if taken >= self.0.limit {
            self.0.taken.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(self.clone()))
    }

    pub(crate) fn limit(&self) -> usize {
        self.0.limit
    }

    /// How many are taken now.
    pub(crate) fn taken(&self) -> usize {
        self.0.taken.load(Ordering::Acquire)
    }
}

/// One taken slot.
#[derive(Debug)]
pub(crate) struct Slot(Slots);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.0.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_come_back() {
        let slots = Slots::new(2);
        let a = slots.try_take().unwrap();
        let _b = slots.try_take().unwrap();
        assert!(slots.try_take().is_none());
        assert_eq!(slots.taken(), 2);
        drop(a);
        assert!(slots.try_take().is_some());
    }
}
