//! The bottom layer: small tools every other layer may use, and that use nothing of the crate.
//!
//! - `lock`: a mutex lock that shrugs off poisoning (every critical section in the runtime is a
//!   single map or queue operation, so a poisoned lock still guards consistent data);
//! - `alarm`: wake-ups at an instant from one background thread, without a Tokio timer;
//! - `deadline`: the deadlines of one connection's calls with one sweeper, not a timer per call;
//! - `lag_queue`: a bounded queue whose overflow becomes a counted gap, never a silent drop;
//! - `closer`: a close signal that carries its reason;
//! - `held`: counting the bytes held for messages not yet complete, within a limit;
//! - `slots`: a bounded count of things in use (connections);
//! - `own_ids`: a fast hash for maps keyed by ids this side numbers itself;
//! - `peer_ids`: a fast hash with keys of its own for maps keyed by ids the peer picks;
//! - `panic_message`: the text of a caught panic.

pub(crate) mod alarm;
pub(crate) mod closer;
pub(crate) mod deadline;
pub(crate) mod held;
pub(crate) mod lag_queue;
pub(crate) mod own_ids;
pub(crate) mod peer_ids;
pub(crate) mod slots;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};

/// A boxed, sendable future (handlers and listeners are stored erased).
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A boxed, sendable stream.
pub(crate) type BoxStream<T> = Pin<Box<dyn futures_util::Stream<Item = T> + Send + 'static>>;

/// Locks `mutex`, recovering the guard when a panic poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a single map operation, so a poisoned map is consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The message of a caught panic (`panic!("...")` payloads are `&str` or `String`).
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_string()
    }
}
