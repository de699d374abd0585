//! The runtime's internal messages: what crosses a transport, before any encoding.
//!
//! In-process transports carry these as they are; byte transports map each to one wire frame
//! (see `docs/PROTOCOL.md`).

use std::borrow::Cow;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::IpcError;
use crate::payload::Payload;

/// A wire channel name: borrowed from generated constants, owned when decoded from the wire.
pub(crate) type ChannelName = Cow<'static, str>;

/// The outcome of one call as main produced it.
pub(crate) type CallResult = Result<Payload, Failure>;

/// A reply slot that bypasses the reply queue on in-process connections; dropping the receiver
/// is the cancel signal.
pub(crate) type LocalReply = oneshot::Sender<CallResult>;

/// Why a call did not produce a value.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The handler returned `Err(E)`; the payload holds the `E`.
    App(Payload),
    /// The framework failed.
    Ipc(IpcError),
}

/// Renderer to main.
#[derive(Debug)]
pub(crate) enum ToMain {
    Invoke {
        id: u64,
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
        reply: Option<LocalReply>,
    },
    Cancel {
        id: u64,
    },
    Send {
        channel: ChannelName,
        args: Payload,
    },
}

/// Main to renderer.
#[derive(Debug)]
pub(crate) enum ToRenderer {
    Reply {
        id: u64,
        result: CallResult,
    },
    Event {
        channel: ChannelName,
        payload: Payload,
    },
    /// A framework error outside any call, or about a call whose frame was malformed.
    Notice {
        id: Option<u64>,
        error: IpcError,
    },
    /// Main is closing the connection, and says why.
    Goodbye {
        reason: String,
    },
}
