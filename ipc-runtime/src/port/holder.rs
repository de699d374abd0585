//! Who holds the far end of a pair, as the connection it was handed to vouches for.
//!
//! When an end of a pair made in this process goes onto a connection, its partner (an object
//! served here, say) learns who now holds it: main's connections name their renderer, so an
//! object main serves can judge each call its handle's holder makes (a capability's
//! `#[policy(...)]`). An end relayed onward from another connection leaves its partner's holder
//! as it was: the partner still hears the calls from the connection that relays them.

use std::sync::{Arc, Mutex};

use ipc_schema::Rule;

use crate::caller::Caller;
use crate::error::IpcError;
use crate::util::lock;

/// A connection's judgement of the calls its renderer makes through a handle.
pub(crate) trait Holder: Send + Sync {
    /// Whether this holder may make a call on `channel` (`namespace:method`) whose declared
    /// policy is `levels` (each level met by one of its rules).
    ///
    /// # Errors
    ///
    /// [`IpcError::Forbidden`] naming the rule that refused.
    fn admit(&self, channel: &str, levels: &[Vec<Rule>]) -> Result<(), IpcError>;

    /// The holder of what a message for `recipient` hands over, where the connection serves
    /// several (a bridge's windows). Made only when a message hands an end over.
    fn for_recipient(&self, recipient: &Recipient) -> Arc<dyn Holder>;
}

/// Whom a message is for, where its connection serves several (a window behind a bridge): the
/// ends it hands over are held by that one.
#[derive(Clone)]
pub(crate) struct Recipient {
    /// The window, as main knows it.
    pub(crate) caller: Caller,
    /// Judged as the window's main frame, where the bridge delivers events and requests,
    /// rather than as the frame that called (a reply goes to the frame that called).
    pub(crate) main_frame: bool,
}

/// The holder of a pair's far end, shared by the pair's two ends: `None` while the far end is in
/// this process (or on a connection that names no holder, a renderer's own).
#[derive(Clone, Default)]
pub(crate) struct HeldBy(Arc<Mutex<Option<Arc<dyn Holder>>>>);

impl HeldBy {
    pub(crate) fn set(&self, holder: Option<Arc<dyn Holder>>) {
        *lock(&self.0) = holder;
    }

    pub(crate) fn get(&self) -> Option<Arc<dyn Holder>> {
        lock(&self.0).clone()
    }
}
