//! What crosses a capability's port (`docs/PROTOCOL.md` §7.3).

use serde::{Deserialize, Serialize};

use crate::wire::WireError;

/// From the holder to the object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub(crate) enum ToObject<Call> {
    /// A method call: `call` names the method and carries its arguments. `id` is the holder's,
    /// unique among its calls in flight on this handle.
    Call { id: u64, call: Call },
    /// The holder no longer waits for call `id`: the object drops its handler's future.
    Cancel { id: u64 },
}

/// From the object to the holder.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub(crate) enum FromObject<Reply> {
    /// Call `id`'s outcome (the method's `Ok` or its application error).
    Reply { id: u64, reply: Reply },
    /// Call `id` failed in the framework (its handler panicked, too many calls in flight, a
    /// repeated id).
    Error { id: u64, error: Box<WireError> },
}
