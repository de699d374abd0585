//! Counting the bytes held on peers' behalf (messages not yet complete), so that main can say how
//! much a crowd of half-sent messages costs it, and bound it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A shared count of bytes held.
#[derive(Clone, Default, Debug)]
pub(crate) struct Held(Arc<AtomicUsize>);

impl Held {
    /// Counts `bytes` until the returned hold is dropped.
    pub(crate) fn hold(&self, bytes: usize) -> Hold {
        self.0.fetch_add(bytes, Ordering::Relaxed);
        Hold {
            held: self.clone(),
            bytes,
        }
    }

    /// The bytes held now.
    pub(crate) fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Bytes counted in a [`Held`] while this lives.
#[derive(Debug)]
pub(crate) struct Hold {
    held: Held,
    bytes: usize,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.held.0.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}
