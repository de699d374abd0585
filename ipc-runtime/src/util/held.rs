//! Counting the bytes held on peers' behalf (messages not yet complete), so that main can say how
//! much a crowd of half-sent messages costs it, and bound it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A shared count of bytes held, with a limit.
#[derive(Clone, Debug)]
pub(crate) struct Held(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    bytes: AtomicUsize,
    limit: usize,
}

impl Default for Held {
    fn default() -> Self {
        Held::with_limit(usize::MAX)
    }
}

impl Held {
    pub(crate) fn with_limit(limit: usize) -> Self {
        Held(Arc::new(Inner {
            bytes: AtomicUsize::new(0),
            limit,
        }))
    }

    fn try_add(&self, bytes: usize) -> Result<(), OverLimit> {
        let before = self.0.bytes.fetch_add(bytes, Ordering::Relaxed);
        let after = before.saturating_add(bytes);
        if after > self.0.limit {
            self.0.bytes.fetch_sub(bytes, Ordering::Relaxed);
            return Err(OverLimit {
                size: after,
                limit: self.0.limit,
            });
        }
        Ok(())
    }

    /// A hold of nothing yet, to grow with [`Hold::try_grow_to`].
    pub(crate) fn empty_hold(&self) -> Hold {
        Hold {
            held: self.clone(),
            bytes: 0,
        }
    }

    /// The bytes held now.
    pub(crate) fn bytes(&self) -> usize {
        self.0.bytes.load(Ordering::Relaxed)
    }
}

/// Holding more would go over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverLimit {
    /// What would have been held.
    pub(crate) size: usize,
    pub(crate) limit: usize,
}

/// Bytes counted in a [`Held`] while this lives.
#[derive(Debug)]
pub(crate) struct Hold {
    held: Held,
    bytes: usize,
}

impl Hold {
    /// Counts `bytes` in all instead of what this hold counted so far, if that stays within the
    /// limit (shrinking always succeeds).
    ///
    /// # Errors
    ///
    /// What would have been held, when growing is over the limit (the hold is unchanged then).
    pub(crate) fn try_grow_to(&mut self, bytes: usize) -> Result<(), OverLimit> {
        if bytes <= self.bytes {
            self.held
                .0
                .bytes
                .fetch_sub(self.bytes - bytes, Ordering::Relaxed);
            self.bytes = bytes;
            return Ok(());
        }
        self.held.try_add(bytes - self.bytes)?;
        self.bytes = bytes;
        Ok(())
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.held.0.bytes.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_grows_within_the_limit_and_shrinks() {
        let held = Held::with_limit(100);
        let mut hold = held.empty_hold();
        hold.try_grow_to(70).unwrap();
        assert_eq!(held.bytes(), 70);
        assert_eq!(
            hold.try_grow_to(101).unwrap_err(),
            OverLimit {
                size: 101,
                limit: 100
            }
        );
        assert_eq!(held.bytes(), 70);
        hold.try_grow_to(20).unwrap();
        assert_eq!(held.bytes(), 20);
        drop(hold);
        assert_eq!(held.bytes(), 0);
    }
}
