//! A counting global allocator: while a thread measures (see [`measure`]), every byte it asks
//! the allocator for is added up (an `alloc` counts its size, a `realloc` its new size, so a
//! growing buffer counts every step). The decoder targets check that one input never makes the
//! decoder ask for more than [`bound`] allows for its length: what a peer can make the other side
//! reserve must be proportional to what it sent.
//!
//! Everything else (libFuzzer, other threads, code outside [`measure`]) goes to `System`
//! untouched.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The allocator every fuzz binary of this crate uses.
pub struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

thread_local! {
    /// Whether this thread is measuring.
    static ON: Cell<bool> = const { Cell::new(false) };
    /// Bytes requested since the measurement started.
    static REQUESTED: Cell<usize> = const { Cell::new(0) };
    /// The largest single request since the measurement started.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    /// Bytes allocated and not yet freed since the measurement started (frees of older blocks
    /// count too, so this may go below zero).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The most `LIVE` reached.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Notes a request of `size` bytes, which frees `freed` bytes (a `realloc`'s old block).
fn note(size: usize, freed: usize) {
    // `try_with`: during thread teardown the slots may be gone; nothing is measured then.
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = REQUESTED.try_with(|r| r.set(r.get().saturating_add(size)));
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
            let _ = LIVE.try_with(|live| {
                let now = live.get() + size as isize - freed as isize;
                live.set(now);
                let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
            });
        }
    });
}

fn note_free(size: usize) {
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = LIVE.try_with(|live| live.set(live.get() - size as isize));
        }
    });
}

// SAFETY: every call is forwarded to `System` with the same arguments; the bookkeeping only
// touches const-initialized thread-locals (no allocation, no destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size(), 0);
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size(), 0);
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size, layout.size());
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// What one measured run asked the allocator for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Bytes requested in all (`alloc` sizes plus `realloc` new sizes).
    pub requested: usize,
    /// The largest single request.
    pub largest: usize,
    /// The most bytes held at once (allocated during the run and not yet freed).
    pub peak: usize,
}

/// Runs `f`, counting what this thread asks the allocator for meanwhile.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Usage) {
    REQUESTED.with(|r| r.set(0));
    LARGEST.with(|l| l.set(0));
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    ON.with(|on| on.set(true));
    // A panic inside `f` aborts the fuzz target, so the flag needs no guard.
    let result = f();
    ON.with(|on| on.set(false));
    let usage = Usage {
        requested: REQUESTED.with(Cell::get),
        largest: LARGEST.with(Cell::get),
        peak: PEAK.with(Cell::get).max(0) as usize,
    };
    (result, usage)
}

/// Bytes per input byte a decoder may request in all, for types without recursive buffered
/// enums. Measured worst case: 252 (`Vec<Untagged>` of one-byte MessagePack integers: each
/// element becomes a 32-byte serde `Content` while the untagged enum is buffered, then a
/// 40-byte value, and every growth step of both vectors counts); see `fuzz/README.md`.
pub const PER_BYTE: usize = 512;
/// Bytes per input byte for types with a recursive untagged enum (`Untagged::List`): serde
/// clones the buffered subtree at every nesting level, so decoding costs about 34 bytes per
/// input byte per level, up to the nesting limit of 128 levels (measured: 4058 per byte at 120
/// levels). A known amplification, reported rather than bounded by the runtime.
pub const NESTED_PER_BYTE: usize = 8192;
/// Bytes any input may request on top of the per-byte allowance (buffers of fixed size, first
/// growth steps).
pub const CONSTANT: usize = 256 * 1024;

/// The most a decoder may request for an input of `len` bytes with `per_byte` bytes per byte.
pub fn bound(len: usize, per_byte: usize) -> usize {
    per_byte.saturating_mul(len).saturating_add(CONSTANT)
}

/// Runs `f` on `input` (measured) and panics when it requested more than
/// [`bound`]`(input.len(), per_byte)` allows.
///
/// With `IPC_FUZZ_ALLOC_REPORT` set, prints each new worst case (bytes per input byte, and the
/// largest total for a small input), to find the bound empirically.
pub fn check<R>(what: &str, input: &[u8], per_byte: usize, f: impl FnOnce() -> R) -> R {
    let (result, usage) = measure(f);
    let len = input.len();
    static REPORT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *REPORT.get_or_init(|| std::env::var_os("IPC_FUZZ_ALLOC_REPORT").is_some()) {
        report(what, len, usage);
    }
    let bound = bound(len, per_byte);
    assert!(
        usage.requested <= bound,
        "{what}: decoding {len} bytes requested {} bytes (at most {} at once, largest single \
         request {}), above the bound {per_byte} * len + {CONSTANT} = {bound}",
        usage.requested,
        usage.peak,
        usage.largest,
    );
    result
}

fn report(what: &str, len: usize, usage: Usage) {
    use std::collections::HashMap;
    use std::sync::Mutex;
    /// Per `what`: the most requested by an input of at most 64 bytes, the most bytes per byte
    /// for inputs of 256 bytes or more, and the most bytes per byte above `CONSTANT`.
    static WORST: Mutex<Option<HashMap<String, [usize; 3]>>> = Mutex::new(None);
    let mut worst = WORST.lock().unwrap_or_else(|e| e.into_inner());
    let worst = worst
        .get_or_insert_with(HashMap::new)
        .entry(what.to_string())
        .or_default();
    let small = if len <= 64 { usage.requested } else { 0 };
    let ratio = if len >= 256 { usage.requested / len } else { 0 };
    let above = usage.requested.saturating_sub(CONSTANT) / len.max(1);
    for (i, (value, name)) in [
        (small, "requested by a small input"),
        (ratio, "bytes per byte (inputs of 256 bytes or more)"),
        (above, "bytes per byte above the constant"),
    ]
    .into_iter()
    .enumerate()
    {
        if value > worst[i] {
            worst[i] = value;
            eprintln!(
                "alloc report: {what}: new worst {name}: {value} ({len} bytes requested {}, \
                 peak {})",
                usage.requested, usage.peak
            );
        }
    }
}
