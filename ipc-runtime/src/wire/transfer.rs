//! Transfer lists: the port ids a frame's payload hands over (`docs/PROTOCOL.md` §7.1).
//!
//! The wire knows nothing of ports. While a frame encodes its payload, it collects here the ids
//! the payload's port references were given (the port layer notes each as it serializes one),
//! and writes them into the frame (`ports` on JSON, a `transfer` prefix on the binary codec).
//! A value encoded once for several receivers (an event to many renderers) is encoded
//! `without` a collection: a port cannot go to several places.

use std::cell::RefCell;

thread_local! {
    /// One entry per payload being encoded on this thread, innermost last; `None` where ports
    /// may not be transferred.
    static COLLECTING: RefCell<Vec<Option<Vec<u64>>>> = const { RefCell::new(Vec::new()) };
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
    COLLECTING.with(|stack| stack.borrow_mut().push(Some(Vec::new())));
    let pop = Pop;
    let result = encode();
    let ids = COLLECTING.with(|stack| stack.borrow_mut().last_mut().and_then(Option::take));
    drop(pop);
    (result, ids.unwrap_or_default())
}

/// Runs `encode` where no port may be transferred (a value encoded once for several receivers).
pub(crate) fn without<R>(encode: impl FnOnce() -> R) -> R {
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
}
