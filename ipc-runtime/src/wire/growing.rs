//! The buffer of a message being received, grown as its bytes arrive rather than reserved from
//! the length the peer announced: a peer that announces 64 MiB and sends one byte makes main
//! allocate 64 KiB, not 64 MiB.
//!
//! Growth is generous once bytes have come (up to 16 times what arrived), so an honest sender,
//! whose first chunk is a whole frame, gets its whole message's buffer at once and nothing is
//! copied; the capacity never exceeds what was announced, and it is counted in a hold against
//! main's budget for unfinished messages.

use bytes::BytesMut;

use crate::util::held::{Hold, OverLimit};

/// The least a buffer grows by.
pub(crate) const GROW_AT_LEAST: usize = 64 * 1024;

/// A buffer grows to at most this many times what it holds (plus [`GROW_AT_LEAST`]).
const GROWTH_FACTOR: usize = 16;

/// The largest message buffer a connection keeps for its next message once the message it held
/// is dropped (reuse saves page faults; beyond this, memory is given back with the message).
pub(crate) const KEEP_FOR_REUSE_AT_MOST: usize = 16 * 1024 * 1024;

/// A message's buffer, its announced length, and the hold counting its capacity.
pub(crate) struct Growing<'a> {
    pub(crate) buffer: &'a mut BytesMut,
    pub(crate) hold: &'a mut Hold,
    /// The announced length of the message.
    pub(crate) total: usize,
}

impl Growing<'_> {
    /// Makes room for at least one more byte, if the message is not complete.
    ///
    /// # Errors
    ///
    /// The capacity would take main over its budget for unfinished messages.
    pub(crate) fn make_room(&mut self) -> Result<(), OverLimit> {
        let len = self.buffer.len();
        let remaining = self.total.saturating_sub(len);
        if remaining == 0 || self.buffer.capacity() > len {
            return Ok(());
        }
        let step = remaining.min((len.saturating_mul(GROWTH_FACTOR)).max(GROW_AT_LEAST));
        // Counted before it is allocated: over the budget, nothing is.
        self.hold.try_grow_to(len + step)?;
        // Memory this buffer held before (a message since dropped) comes back without a copy.
        if !self.buffer.try_reclaim(step) {
            let mut bigger = BytesMut::with_capacity(len + step);
            bigger.extend_from_slice(self.buffer);
            *self.buffer = bigger;
        }
        self.hold.try_grow_to(self.buffer.capacity())
    }

    /// Appends `data` (which the caller checked fits in the announced length).
    ///
    /// # Errors
    ///
    /// As [`Growing::make_room`].
    pub(crate) fn append(&mut self, mut data: &[u8]) -> Result<(), OverLimit> {
        while !data.is_empty() {
            self.make_room()?;
            let room = (self.buffer.capacity() - self.buffer.len()).max(1);
            let (now, rest) = data.split_at(room.min(data.len()));
            self.buffer.extend_from_slice(now);
            data = rest;
        }
        self.hold.try_grow_to(self.buffer.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::held::Held;

    #[test]
    fn grows_with_what_arrives_never_past_the_announced_length() {
        let held = Held::default();
        let mut hold = held.empty_hold();
        let mut buffer = BytesMut::new();
        let mut growing = Growing {
            buffer: &mut buffer,
            hold: &mut hold,
            total: 64 << 20,
        };
        growing.append(b"x").unwrap();
        assert_eq!(growing.buffer.capacity(), GROW_AT_LEAST);
        growing.append(&vec![0; GROW_AT_LEAST]).unwrap();
        assert!(growing.buffer.capacity() <= (GROW_AT_LEAST + 1) * (GROWTH_FACTOR + 1));
        let rest = (64 << 20) - growing.buffer.len();
        growing.append(&vec![0; rest]).unwrap();
        assert_eq!(growing.buffer.len(), 64 << 20);
        assert_eq!(growing.buffer.capacity(), 64 << 20);
        assert_eq!(held.bytes(), 64 << 20);
    }

    #[test]
    fn over_the_budget_nothing_is_allocated() {
        let held = Held::with_limit(100_000);
        let mut hold = held.empty_hold();
        let mut buffer = BytesMut::new();
        let mut growing = Growing {
            buffer: &mut buffer,
            hold: &mut hold,
            total: 1 << 20,
        };
        growing.append(&[0; 1000]).unwrap();
        let error = growing.append(&vec![0; GROW_AT_LEAST]).unwrap_err();
        assert_eq!(error.limit, 100_000);
        assert_eq!(growing.buffer.capacity(), GROW_AT_LEAST);
    }
}
