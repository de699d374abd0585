//! The runtime's internal messages: what crosses a transport, before any encoding.
//!
//! In-process transports carry these as they are; byte transports map each to one wire frame
//! (see `docs/PROTOCOL.md`).

use std::borrow::Cow;
use std::time::Duration;

use crate::error::IpcError;
use crate::payload::Payload;

/// A wire channel name: borrowed from generated constants, owned when decoded from the wire.
pub(crate) type ChannelName = Cow<'static, str>;

/// The outcome of one call as main produced it.
pub(crate) type CallResult = Result<Payload, Failure>;

/// Why a call did not produce a value.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The handler returned `Err(E)`; the payload holds the `E`.
    App(Payload),
    /// The framework failed.
    Ipc(IpcError),
}

/// Who, behind a bridge connection, made a call (an Electron bridge multiplexes many windows
/// over one connection and names the window in each frame).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SenderInfo {
    /// The window's id on the bridge (Electron's `webContents.id`).
    pub(crate) id: u64,
    /// The calling frame's URL.
    #[serde(default)]
    pub(crate) url: Option<String>,
    /// The calling frame's origin.
    #[serde(default)]
    pub(crate) origin: Option<String>,
}

/// Renderer to main.
#[derive(Debug)]
pub(crate) enum ToMain {
    Invoke {
        id: u64,
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
        sender: Option<SenderInfo>,
    },
    Cancel {
        id: u64,
    },
    Send {
        channel: ChannelName,
        args: Payload,
        sender: Option<SenderInfo>,
    },
    /// A bridge's window went away.
    Detach {
        sender: u64,
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
        /// On a bridge connection, the one window it is for (`None`: every window).
        to: Option<u64>,
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
