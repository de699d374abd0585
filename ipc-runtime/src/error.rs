//! Errors: framework failures ([`IpcError`]) kept apart from the application's own error type
//! ([`CallError::App`]).

use std::time::Duration;

/// A failure of the IPC framework itself, never of the application's handler logic.
///
/// Every variant carries the data needed to act on it; [`IpcError::code`] gives a stable
/// machine-readable name (the same string travels on the wire).
///
/// # Examples
///
/// ```
/// use ipc_runtime::IpcError;
///
/// let err = IpcError::NoHandler { channel: "todos:add".into() };
/// assert_eq!(err.code(), "no_handler");
/// assert_eq!(err.to_string(), "no handler is registered for channel `todos:add`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IpcError {
    /// Nothing on main handles (or listens to) this channel.
    #[error("no handler is registered for channel `{channel}`")]
    NoHandler {
        /// The channel that was called.
        channel: String,
    },
    /// The arguments did not decode as the channel's parameter types (wrong type or count).
    #[error("bad arguments for channel `{channel}`: {reason}")]
    BadArguments {
        /// The channel that was called.
        channel: String,
        /// What the decoder said.
        reason: String,
    },
    /// The reply did not decode as the channel's declared result type.
    #[error("bad reply on channel `{channel}`: {reason}")]
    BadReply {
        /// The channel that was called.
        channel: String,
        /// What the decoder said.
        reason: String,
    },
    /// The call was cancelled before it completed.
    #[error("call on channel `{channel}` was cancelled")]
    Cancelled {
        /// The channel that was called.
        channel: String,
    },
    /// The call did not complete within its deadline.
    #[error("call on channel `{channel}` timed out after {after:?}")]
    Timeout {
        /// The channel that was called.
        channel: String,
        /// The deadline that passed.
        after: Duration,
    },
    /// The peer went away (or was never reachable); the call's outcome is unknown.
    #[error("disconnected: {reason}")]
    Disconnected {
        /// Why the connection ended.
        reason: String,
    },
    /// The handler panicked; main kept serving every other call.
    #[error("handler for channel `{channel}` panicked: {message}")]
    HandlerPanicked {
        /// The channel whose handler panicked.
        channel: String,
        /// The panic message, when it was a string.
        message: String,
    },
    /// A message was larger than the configured limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The message's size in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The renderer already has the maximum number of calls in flight.
    #[error("too many calls in flight (limit {limit})")]
    TooManyInFlight {
        /// The configured limit.
        limit: usize,
    },
    /// Main already serves as many connections as it may (in all, or on this listener); the
    /// connection was refused before its handshake.
    #[error("too many connections (limit {limit})")]
    TooManyConnections {
        /// The limit that was reached.
        limit: usize,
    },
    /// The receiver already has `limit` ports open on the connection; the message that would
    /// open more was refused.
    #[error("too many ports open (limit {limit})")]
    TooManyPorts {
        /// The limit that was reached.
        limit: usize,
    },
    /// The sender is not allowed to use this channel.
    #[error("forbidden on channel `{channel}`: {reason}")]
    Forbidden {
        /// The channel that was called.
        channel: String,
        /// Why the call was refused.
        reason: String,
        /// The rule that refused it, where one did: a contract's `#[policy(...)]` as written
        /// (alternatives joined with `or`), `default` (no policy declared: a subframe), or
        /// `grant without `ns`` (the renderer's [`Grant`](crate::Grant) lacks the contract).
        rule: Option<String>,
    },
    /// The peers were built from different contracts or protocol versions.
    #[error("version mismatch: ours is {ours}, theirs is {theirs}")]
    VersionMismatch {
        /// Our contract hash or protocol version.
        ours: String,
        /// The peer's.
        theirs: String,
    },
    /// The wire protocol was violated (a malformed or unexpected frame).
    #[error("protocol error: {reason}")]
    Protocol {
        /// What was wrong.
        reason: String,
    },
    /// A value could not be encoded for the wire.
    #[error("could not encode a value: {reason}")]
    Encode {
        /// What the encoder said.
        reason: String,
    },
    /// The object behind a capability's handle was revoked by its owner: no call through the
    /// handle reaches it any more.
    #[error("capability `{capability}` was revoked: {reason}")]
    Revoked {
        /// The capability contract (its namespace).
        capability: String,
        /// Why, as its owner said.
        reason: String,
    },
}

impl IpcError {
    /// The stable machine-readable name of the error (the `code` of a wire error frame).
    pub fn code(&self) -> &'static str {
        match self {
            IpcError::NoHandler { .. } => "no_handler",
            IpcError::BadArguments { .. } => "bad_arguments",
            IpcError::BadReply { .. } => "bad_reply",
            IpcError::Cancelled { .. } => "cancelled",
            IpcError::Timeout { .. } => "timeout",
            IpcError::Disconnected { .. } => "disconnected",
            IpcError::HandlerPanicked { .. } => "handler_panicked",
            IpcError::TooLarge { .. } => "too_large",
            IpcError::TooManyInFlight { .. } => "too_many_in_flight",
            IpcError::TooManyConnections { .. } => "too_many_connections",
            IpcError::TooManyPorts { .. } => "too_many_ports",
            IpcError::Forbidden { .. } => "forbidden",
            IpcError::VersionMismatch { .. } => "version_mismatch",
            IpcError::Protocol { .. } => "protocol",
            IpcError::Encode { .. } => "encode",
            IpcError::Revoked { .. } => "revoked",
        }
    }

    pub(crate) fn disconnected(reason: impl Into<String>) -> Self {
        IpcError::Disconnected {
            reason: reason.into(),
        }
    }
}

/// A call that cannot fail on its own fails only in the framework: `?` turns its error into
/// that [`IpcError`].
impl From<CallError<Never>> for IpcError {
    fn from(error: CallError<Never>) -> Self {
        match error {
            CallError::Ipc(error) => error,
            CallError::App(never) => match never {},
        }
    }
}

/// The outcome of a fallible invoke: the application's own error, or a framework failure.
///
/// A client can always tell the two apart: `App(E)` is exactly the value the handler returned as
/// `Err(E)`; `Ipc` is something the framework detected.
///
/// # Examples
///
/// ```
/// use ipc_runtime::{CallError, IpcError};
///
/// let app: CallError<String> = CallError::App("no such todo".into());
/// assert_eq!(app.app(), Some(&"no such todo".to_string()));
/// let ipc: CallError<String> = IpcError::TooManyInFlight { limit: 4 }.into();
/// assert!(ipc.ipc().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError<E> {
    /// The handler returned `Err(E)`.
    #[error("application error: {0:?}")]
    App(E),
    /// The framework failed.
    #[error(transparent)]
    Ipc(#[from] IpcError),
}

impl<E> CallError<E> {
    /// The application error, if that is what this is.
    pub fn app(&self) -> Option<&E> {
        match self {
            CallError::App(e) => Some(e),
            CallError::Ipc(_) => None,
        }
    }

    /// The framework error, if that is what this is.
    pub fn ipc(&self) -> Option<&IpcError> {
        match self {
            CallError::App(_) => None,
            CallError::Ipc(e) => Some(e),
        }
    }
}

/// A registration on [`Main`](crate::Main) was refused.
///
/// # Examples
///
/// ```
/// use ipc_runtime::RegistryError;
///
/// let err = RegistryError::AlreadyHandled { channel: "todos:add".into() };
/// assert!(err.to_string().contains("already has a handler"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Electron's rule: one `handle` per channel. Remove the first with `remove_handler`.
    #[error("channel `{channel}` already has a handler; remove it first with `remove_handler`")]
    AlreadyHandled {
        /// The channel.
        channel: String,
    },
}

/// Why an event stream yields an error in place of an event.
///
/// Events are never dropped silently: when a subscription falls behind (its buffer is full, or
/// main dropped events for this renderer because it did not read them fast enough), the stream
/// yields [`EventError::Lagged`] with the count, where the missed events would have been.
///
/// # Examples
///
/// ```
/// use ipc_runtime::EventError;
///
/// let lag = EventError::Lagged { missed: 3 };
/// assert_eq!(lag.to_string(), "missed 3 events: the subscriber did not keep up");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// `missed` events were dropped here.
    #[error("missed {missed} events: the subscriber did not keep up")]
    Lagged {
        /// How many.
        missed: u64,
    },
    /// An event's payload did not decode as the declared type (a peer built from another
    /// version of the contract).
    #[error("an event of `{channel}` could not be decoded: {reason}")]
    Undecodable {
        /// The event channel.
        channel: String,
        /// What the decoder said.
        reason: String,
    },
    /// The connection closed before the event came ([`Renderer::once`](crate::Renderer::once)).
    #[error("the connection closed before the event came: {reason}")]
    Closed {
        /// Why the connection closed.
        reason: String,
    },
}

/// The application error of a method that cannot fail: a type with no values.
///
/// Used as `E` in [`InvokeChannel<A, T, E>`](crate::InvokeChannel) for methods declared `-> T`
/// (`std::convert::Infallible` has no serde support, so the wire needs its own).
///
/// # Examples
///
/// ```
/// use ipc_runtime::{InvokeChannel, Never};
///
/// const NOW: InvokeChannel<ipc_runtime::NoArgs, String, Never> = InvokeChannel::new("clock:now");
/// # let _ = NOW;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Never {}

impl std::fmt::Display for Never {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

impl std::error::Error for Never {}

impl ts_rs::TS for Never {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "never".into()
    }

    fn inline(_: &ts_rs::Config) -> String {
        "never".into()
    }
}
