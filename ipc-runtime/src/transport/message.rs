//! The runtime's internal messages: what crosses a transport, before any encoding, and the
//! outcome of a call.
//!
//! In-process transports carry these as they are; frame transports map each to one wire frame
//! (see `docs/PROTOCOL.md` and `frames`).

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::future::CatchUnwind;
use serde::de::DeserializeOwned;

use crate::caller::Caller;
use crate::error::{CallError, IpcError};
use crate::util::{BoxFuture, panic_message};
use crate::wire::time::Unwire;
use crate::wire::{Outcome, Payload, SenderInfo};

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
    /// The answer to main's `ping`.
    Pong {
        id: u64,
    },
    /// A framework error outside any call (the renderer's answer to a frame it cannot use).
    Notice {
        error: IpcError,
    },
    /// The answer to one of main's requests.
    Reply {
        id: u64,
        result: CallResult,
    },
    Port(PortMessage),
}

/// A port frame, either way (`docs/PROTOCOL.md` §7.1).
#[derive(Debug)]
pub(crate) enum PortMessage {
    Data {
        port: u64,
        data: Payload,
    },
    Credit {
        port: u64,
        n: u64,
    },
    Close {
        port: u64,
        reason: Option<String>,
        outcome: Outcome<Payload>,
    },
}

/// Main to renderer.
#[derive(Debug)]
pub(crate) enum ToRenderer {
    Reply {
        id: u64,
        result: CallResult,
        /// On a bridge connection, the window whose call it answers, as it was when it called
        /// (main's side only: the frame names no window, the bridge knows its ids). The handles
        /// a reply carries are that window's.
        window: Option<Caller>,
    },
    Event {
        channel: ChannelName,
        payload: Payload,
        /// On a bridge connection, the one window it is for (`None`: every window).
        to: Option<u64>,
        /// On a bridge connection, with `to: None`: windows the event is withheld from (their
        /// grant does not allow it).
        except: Option<Box<[u64]>>,
    },
    /// A framework error outside any call, or about a call whose frame was malformed.
    Notice {
        id: Option<u64>,
        error: IpcError,
    },
    /// Events of `channel` main dropped for this renderer (it did not keep up).
    Lag {
        channel: ChannelName,
        missed: u64,
        /// On a bridge connection, the one window it is for (`None`: every window).
        to: Option<u64>,
        /// On a bridge connection, with `to: None`: windows it is withheld from.
        except: Option<Box<[u64]>>,
    },
    /// Is the renderer still there? (Answered by `pong`.)
    Ping {
        id: u64,
    },
    /// The answer to a renderer's `ping`.
    Pong {
        id: u64,
    },
    /// Main is closing the connection (or, with `to`, disconnecting one window behind a bridge),
    /// and says why.
    Goodbye {
        reason: String,
        to: Option<u64>,
    },
    /// Main's request to the renderer (or, with `to`, to one window behind a bridge).
    Invoke {
        id: u64,
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
        to: Option<u64>,
    },
    /// Main no longer waits for its request `id`.
    Cancel {
        id: u64,
        to: Option<u64>,
    },
    Port(PortMessage),
}

/// A handler's future, panics caught.
pub(crate) type GuardedCall = CatchUnwind<AssertUnwindSafe<BoxFuture<CallResult>>>;

/// A handler's result, or the error for its panic.
pub(crate) fn handler_outcome(
    channel: &str,
    outcome: std::thread::Result<CallResult>,
) -> CallResult {
    outcome.unwrap_or_else(|panic| {
        let message = panic_message(&*panic);
        tracing::error!(%channel, %message, "handler panicked");
        Err(Failure::Ipc(IpcError::HandlerPanicked {
            channel: channel.to_string(),
            message,
        }))
    })
}

/// How a call's success value is read from its payload.
pub(crate) type DecodeValue<T> = fn(Payload) -> Result<T, String>;

/// The value as itself.
pub(crate) fn take_value<T: DeserializeOwned + 'static>(payload: Payload) -> Result<T, String> {
    payload.take::<T>()
}

/// A value the contract carries in a wire form (a time value: `wire::time`), unwrapped.
pub(crate) fn take_unwired<W>(payload: Payload) -> Result<W::Value, String>
where
    W: Unwire + DeserializeOwned + 'static,
{
    payload.take::<W>().map(Unwire::unwire)
}

/// The typed outcome of a call (a renderer's invoke, or main's request): `BadReply` naming
/// `channel` when the value does not decode.
pub(crate) fn open_reply<T, E>(
    channel: &str,
    result: CallResult,
    decode: DecodeValue<T>,
) -> Result<T, CallError<E>>
where
    E: DeserializeOwned + 'static,
{
    let bad_reply = |reason: String| IpcError::BadReply {
        channel: channel.to_string(),
        reason,
    };
    match result {
        Ok(value) => decode(value).map_err(|r| CallError::Ipc(bad_reply(r))),
        Err(Failure::App(error)) => match error.take::<E>() {
            Ok(error) => Err(CallError::App(error)),
            Err(reason) => Err(CallError::Ipc(bad_reply(reason))),
        },
        Err(Failure::Ipc(error)) => Err(CallError::Ipc(error)),
    }
}
