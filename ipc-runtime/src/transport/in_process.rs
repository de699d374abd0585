//! The in-process transport: two bounded queues, values moved as themselves (never serialized),
//! and the route by which an in-process renderer runs its calls itself.
//!
//! In process, invokes and sends need no message at all: the caller's own task enters the handler
//! or the listeners (see `docs/ARCHITECTURE.md`), which also keeps them in the order the renderer
//! made them. [`LocalRoute`] is the narrow interface that makes this possible without the
//! renderer naming main: main implements [`LocalConnection`] for each in-process renderer it
//! connects and hands it over in the route.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::mailbox::Mailbox;
use super::message::{CallResult, ChannelName, ToMain};
use super::{Link, LinkKind, Transport};
use crate::caller::RendererId;
use crate::error::IpcError;
use crate::util::BoxFuture;
use crate::util::closer::Closer;
use crate::wire::Payload;

/// Main's end of an in-process connection.
pub(crate) struct MainQueues {
    /// Carries nothing but the renderer's presence: main sees the renderer go away when every
    /// sender is dropped (calls and sends take the route instead).
    pub(crate) incoming: mpsc::Receiver<ToMain>,
    pub(crate) outgoing: Arc<Mailbox>,
}

/// A renderer's end of an in-process connection.
pub(crate) struct RendererQueues {
    pub(crate) outgoing: mpsc::Sender<ToMain>,
    pub(crate) incoming: Arc<Mailbox>,
}

/// A connected pair of ends; main's mailbox to the renderer holds `capacity` messages.
pub(crate) fn pair(capacity: usize) -> (MainQueues, RendererQueues) {
    let (to_main, incoming) = mpsc::channel(1);
    let mailbox = Arc::new(Mailbox::new(capacity));
    (
        MainQueues {
            incoming,
            outgoing: mailbox.clone(),
        },
        RendererQueues {
            outgoing: to_main,
            incoming: mailbox,
        },
    )
}

/// What an in-process renderer's calls and sends need of main's side of its connection.
pub(crate) trait LocalConnection: Send + Sync + 'static {
    /// Looks up the handler of `channel` and starts a call with `args` (a panic while starting
    /// it is this call's error, not the caller's).
    ///
    /// # Errors
    ///
    /// `NoHandler`, `BadArguments` or `HandlerPanicked`.
    fn start_call(&self, channel: &str, args: Payload) -> Result<BoxFuture<CallResult>, IpcError>;

    /// Enters a send: calls every listener of `channel` and polls each once, here, in the
    /// caller's task; listeners that have to wait then run on main.
    ///
    /// # Errors
    ///
    /// `TooManyInFlight` when the renderer has as many sends running as main allows,
    /// `BadArguments` when a listener takes other argument types.
    fn send(&self, channel: ChannelName, args: Payload) -> Result<(), IpcError>;
}

/// What an in-process renderer needs to run its calls itself: main's side of its connection,
/// and the connection's call slots, close signal and event count.
#[derive(Clone)]
pub(crate) struct LocalRoute {
    pub(crate) connection: Arc<dyn LocalConnection>,
    /// One permit per call in flight (shared with main's side of the connection).
    pub(crate) slots: Arc<Semaphore>,
    /// The number of slots.
    pub(crate) max_in_flight: usize,
    /// Closed (with the reason) when main closes the connection.
    pub(crate) closer: Arc<Closer>,
    /// Events main queued to this connection (a call waits until the renderer has taken them,
    /// so events a handler emits arrive before its result).
    pub(crate) events_queued: Arc<AtomicU64>,
}

/// What an in-process renderer tells main when it connects.
pub(crate) struct LocalHello {
    pub(crate) label: String,
    pub(crate) origin: Option<String>,
    pub(crate) frame_url: Option<String>,
    pub(crate) contracts: BTreeMap<String, String>,
    pub(crate) capacity: usize,
    /// Main answers with the renderer's id, its end of the queues and its route, or a refusal.
    pub(crate) answer: oneshot::Sender<Result<LocalWelcome, IpcError>>,
}

/// Main's answer to an in-process renderer it accepted.
pub(crate) struct LocalWelcome {
    pub(crate) id: RendererId,
    pub(crate) queues: RendererQueues,
    pub(crate) route: LocalRoute,
}

/// One end of an in-process connection, for code that is generic over [`Transport`].
/// (`Main::connect_in_process` is the shortcut that needs no handshake.)
///
/// # Examples
///
/// ```
/// use ipc_runtime::{InProcess, Main, Renderer, RendererOptions};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// let (main_side, renderer_side) = InProcess::pair();
/// let accepted = tokio::spawn({
///     let main = main.clone();
///     async move { main.accept(main_side).await }
/// });
/// let renderer = Renderer::connect(renderer_side, RendererOptions::new("local")).await.unwrap();
/// assert_eq!(accepted.await.unwrap().unwrap(), renderer.id());
/// # }
/// ```
pub struct InProcess {
    pub(crate) side: Side,
}

pub(crate) enum Side {
    Main(oneshot::Receiver<LocalHello>),
    Renderer(oneshot::Sender<LocalHello>),
}

impl InProcess {
    /// A connected pair: `(main's end, the renderer's end)`.
    pub fn pair() -> (InProcess, InProcess) {
        let (tx, rx) = oneshot::channel();
        (
            InProcess {
                side: Side::Main(rx),
            },
            InProcess {
                side: Side::Renderer(tx),
            },
        )
    }
}

impl fmt::Debug for InProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Main(_) => "main",
            Side::Renderer(_) => "renderer",
        };
        f.debug_struct("InProcess").field("side", &side).finish()
    }
}

impl Transport for InProcess {
    fn into_link(self) -> Link {
        Link(LinkKind::InProcess(self))
    }
}
