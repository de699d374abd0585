//! Transports: what carries messages between `Main` and a renderer.
//!
//! Every transport ends in the same pair of bounded queues, one per direction, so the router and
//! the renderer client are written once and the conformance suite runs unchanged on each.

pub(crate) mod in_process;

use tokio::sync::mpsc;

use crate::message::{ToMain, ToRenderer};

/// Main's end of one renderer connection.
pub(crate) struct MainEnd {
    pub(crate) incoming: mpsc::Receiver<ToMain>,
    pub(crate) outgoing: mpsc::Sender<ToRenderer>,
}

/// A renderer's end of its connection to main.
pub(crate) struct RendererEnd {
    pub(crate) outgoing: mpsc::Sender<ToMain>,
    pub(crate) incoming: mpsc::Receiver<ToRenderer>,
    /// In-process: replies may bypass the queue through a [`LocalReply`](crate::message::LocalReply).
    pub(crate) local: bool,
}
