//! Transfer lists: the port ids a frame's payload hands over (`docs/PROTOCOL.md` §7.1).
//!
//! The wire knows nothing of ports. While a frame encodes its payload, it collects here the ids
//! the payload's port references were given (the port layer notes each as it serializes one),
//! and writes them into the frame (`ports` on JSON, a `transfer` prefix on the binary codec).
//! A value encoded once for several receivers (an event to many renderers) is encoded
//! `without` a collection: a port cannot go to several places.
//!
//! Most messages transfer no port, so a message is first encoded [`hoping_for_no_ports`]: no
//! collection is set up at all, and a port reference met meanwhile stops that attempt instead
//! of being written ([`port_met_while_hoping`]); the message is then encoded again where ports
//! can be transferred.

use std::cell::{Cell, RefCell};

thread_local! {
    /// One entry per payload being encoded on this thread, innermost last; `None` where ports
    /// may not be transferred.
    static COLLECTING: RefCell<Vec<Option<Vec<u64>>>> = const { RefCell::new(Vec::new()) };
    /// Whether the message being encoded on this thread is encoded on the hope that it
    /// transfers no port.
    static HOPE: Cell<Hope> = const { Cell::new(Hope::None) };
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hope {
    /// Not hoping: ports go where the innermost collection says.
    None,
    /// Hoping: no collection is set up.
    NoPorts,
    /// A port reference was met: this attempt is to be thrown away.
    Dashed,
}

/// Puts the hope back as it was, however the encoding ends.
struct RestoreHope(Hope);

impl Drop for RestoreHope {
    fn drop(&mut self) {
        HOPE.set(self.0);
    }
}

/// Runs `encode` on the hope that it writes no port reference: no collection is set up (a
/// thread-local entry made and removed per payload, and the caller's own context, cost more
/// than most small messages' encoding). `None` when a port reference was met (and refused,
/// transferring nothing): encode again with the context ports need.
pub(crate) fn hoping_for_no_ports<R>(encode: impl FnOnce() -> R) -> Option<R> {
    let _restore = RestoreHope(HOPE.replace(Hope::NoPorts));
    let result = encode();
    (HOPE.get() == Hope::NoPorts).then_some(result)
}

/// Runs `encode` where ports may be transferred (the attempt after a dashed hope): a message
/// encoded meanwhile on this thread hopes again on its own, and its ports are not refused for
/// the hope of the one around it.
pub(crate) fn with_ports<R>(encode: impl FnOnce() -> R) -> R {
    let _restore = RestoreHope(HOPE.replace(Hope::None));
    encode()
}

/// For a port reference about to be written: whether the message is encoded on the hope of
/// transferring none. If so, the hope is dashed and the reference must fail to serialize (it
/// transfers nothing); the message will be encoded again.
pub(crate) fn port_met_while_hoping() -> bool {
    match HOPE.get() {
        Hope::None => false,
        Hope::NoPorts | Hope::Dashed => {
            HOPE.set(Hope::Dashed);
            true
        }
    }
}

/// Pops the innermost entry even if the encoding panics, so later encodes start clean.
struct Pop;

impl Drop for Pop {
    fn drop(&mut self) {
        COLLECTING.with(|stack| {
            stack.borrow_mut().pop();
        });
    }
}

/// Runs `encode` and returns what it returned with the port ids noted meanwhile.
pub(crate) fn collect<R>(encode: impl FnOnce() -> R) -> (R, Vec<u64>) {
    if HOPE.get() != Hope::None {
        // Nothing can be noted: a port reference dashes the hope instead.
        return (encode(), Vec::new());
    }
    COLLECTING.with(|stack| stack.borrow_mut().push(Some(Vec::new())));
    let pop = Pop;
    let result = encode();
    let ids = COLLECTING.with(|stack| stack.borrow_mut().last_mut().and_then(Option::take));
    drop(pop);
    (result, ids.unwrap_or_default())
}

/// Runs `encode` where no port may be transferred (a value encoded once for several receivers).
pub(crate) fn without<R>(encode: impl FnOnce() -> R) -> R {
    // A port reference here fails for good: no attempt with a context would take it.
    let _restore = RestoreHope(HOPE.replace(Hope::None));
    COLLECTING.with(|stack| stack.borrow_mut().push(None));
    let _pop = Pop;
    encode()
}

/// Whether a port reference written now would be listed in its frame.
pub(crate) fn collecting() -> bool {
    COLLECTING.with(|stack| matches!(stack.borrow().last(), Some(Some(_))))
}

/// Notes that the payload being encoded transfers port `id`. `false` when no frame collects on
/// this thread (the reference would name nothing).
pub(crate) fn note(id: u64) -> bool {
    COLLECTING.with(|stack| match stack.borrow_mut().last_mut() {
        Some(Some(ids)) => {
            ids.push(id);
            true
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_go_to_the_innermost_collection() {
        assert!(!note(1));
        let ((), outer) = collect(|| {
            assert!(note(2));
            let ((), inner) = collect(|| assert!(note(3)));
            assert_eq!(inner, [3]);
            without(|| {
                assert!(!collecting());
                assert!(!note(9));
            });
            assert!(note(4));
        });
        assert_eq!(outer, [2, 4]);
        assert!(!note(5));
    }

    #[test]
    fn a_port_met_while_hoping_dashes_the_hope() {
        assert!(!port_met_while_hoping());
        assert_eq!(hoping_for_no_ports(|| 1), Some(1));
        assert_eq!(
            hoping_for_no_ports(|| {
                // No collection is set up while hoping.
                let ((), ids) = collect(|| assert!(!note(7)));
                assert!(ids.is_empty());
                assert!(port_met_while_hoping());
                2
            }),
            None
        );
        // The attempt with ports is not refused for the hope around it.
        assert_eq!(
            hoping_for_no_ports(|| with_ports(port_met_while_hoping)),
            Some(false)
        );
        // Where ports may not go, a port fails for good, hoping or not.
        assert_eq!(
            hoping_for_no_ports(|| without(port_met_while_hoping)),
            Some(false)
        );
        // The hope ends with the attempt.
        assert!(!port_met_while_hoping());
        let ((), ids) = collect(|| assert!(note(8)));
        assert_eq!(ids, [8]);
    }
}
