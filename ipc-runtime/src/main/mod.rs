//! Main's side: [`Main`], the router (Electron's `ipcMain` and the registry of windows).
//!
//! - `builder`: [`MainBuilder`], limits and defaults;
//! - `registry`: handlers and listeners by channel;
//! - `authorize`: who may use a channel (grants and `#[policy(...)]` rules);
//! - `renderers`: the connected renderers, disconnecting them, emitting events to them;
//! - `lifecycle`: watching renderers come and go;
//! - `target`: [`Target`], which renderers an event goes to;
//! - `connection`: one renderer's connection as main serves it (its calls, sends, close);
//! - `sends`: entering a renderer's sends in order, running their listeners;
//! - `requests`: main's requests to a renderer, and those in flight per connection;
//! - `heartbeat`: pinging a quiet renderer, closing a silent one;
//! - `local`: an in-process renderer's way in (its calls and sends run in its own task);
//! - `mock`: what generated `{Trait}Mock`s record;
//! - `accept`: the handshake on frame connections, and main's frame reading and writing;
//! - `endpoint`: where renderers come from (a Unix socket listener, child processes, the
//!   WebSocket endpoint for pages).
//!
//! Main sits above the renderer's side (it creates in-process renderers) and serves in-process
//! calls and sends through the transport layer's `LocalConnection` interface.

pub(crate) mod accept;
mod authorize;
mod builder;
mod connection;
mod endpoint;
mod heartbeat;
mod lifecycle;
mod local;
mod mock;
mod registry;
mod renderers;
mod requests;
mod sends;
mod target;

pub use builder::MainBuilder;
pub use endpoint::{ChildRenderer, UnixListenerHandle, WebSocketListener, WebSocketOptions};
pub use lifecycle::{RendererEvent, RendererEvents};
pub use mock::{MockCall, MockCalls, mock_arg};
pub use registry::{ListenerId, Registration, RegistrationBatch};
pub use renderers::EventOverflow;
pub use requests::Request;
pub use target::Target;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use tokio_util::sync::CancellationToken;

use crate::caller::{Caller, Peer, RendererId};
use crate::error::IpcError;
use crate::renderer::{Renderer, RendererOptions};
use crate::transport::frames::FrameLink;
use crate::transport::in_process::{self, LocalWelcome, Side};
use crate::transport::message::CallResult;
use crate::transport::{LinkKind, Transport};
use crate::util::held::Held;
use crate::util::lag_queue::LagQueue;
use crate::util::slots::{Slot, Slots};
use crate::util::{BoxFuture, lock, panic_message};
use crate::wire::{Payload, handshake};
use builder::MainConfig;
use connection::MainEnd;
use registry::Registry;
use renderers::RendererEntry;

/// The main side: handlers and listeners by channel, and the connected renderers.
///
/// `Main` is a cheap handle (`Clone`); every clone is the same router.
///
/// # Examples
///
/// ```
/// use ipc_runtime::Never;
/// use ipc_runtime::{InvokeChannel, Main, RendererOptions};
///
/// const ADD: InvokeChannel<(u32, u32), u32, Never> = InvokeChannel::new("math:add");
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// main.handle(ADD, |_caller, (a, b)| async move { Ok(a + b) }).unwrap();
///
/// let renderer = main.connect_in_process(RendererOptions::new("calculator"));
/// assert_eq!(renderer.invoke(ADD, (2, 3)).await.unwrap(), 5);
/// # }
/// ```
#[derive(Clone)]
pub struct Main {
    pub(crate) inner: Arc<MainInner>,
}

pub(crate) struct MainInner {
    pub(crate) config: MainConfig,
    registry: RwLock<Registry>,
    renderers: Mutex<HashMap<RendererId, RendererEntry>>,
    next_renderer: AtomicU64,
    next_listener: AtomicU64,
    pub(crate) shutdown: CancellationToken,
    contracts: Mutex<BTreeMap<String, String>>,
    /// Streams of `renderer_events`.
    watchers: Mutex<Vec<Arc<LagQueue<RendererEvent>>>>,
    /// Bytes held for messages renderers have not finished sending.
    pub(crate) held: Held,
    /// Connections across processes, handshakes included.
    pub(crate) connections: Slots,
    /// What decides a new renderer's grant (`None`: the defaults).
    pub(crate) initial_grant: Option<builder::InitialGrant>,
}

/// Who a new connection says it is.
pub(crate) struct PeerIdentity {
    pub(crate) label: String,
    pub(crate) origin: Option<String>,
    pub(crate) frame_url: Option<String>,
    /// A bridge may name, per frame, the window that sent it.
    pub(crate) bridge: bool,
    /// What the medium vouches for.
    pub(crate) peer: Peer,
}

impl Default for Main {
    fn default() -> Self {
        Main::new()
    }
}

impl fmt::Debug for Main {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Main")
            .field("renderers", &self.renderer_count())
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Main {
    /// A router with default limits.
    pub fn new() -> Self {
        MainBuilder::default().build()
    }

    /// A router with custom limits.
    pub fn builder() -> MainBuilder {
        MainBuilder::default()
    }

    /// Connects a renderer that lives in this process. Values cross without being serialized.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime (the connection's tasks are spawned on it).
    pub fn connect_in_process(&self, options: RendererOptions) -> Renderer {
        let (main_queues, renderer_queues) = in_process::pair(self.inner.config.queue_capacity);
        let id = self.next_renderer_id();
        let identity = PeerIdentity {
            label: options.label.to_string(),
            origin: options.origin.as_deref().map(str::to_string),
            frame_url: options.frame_url.as_deref().map(str::to_string),
            bridge: false,
            peer: Peer::InProcess,
        };
        let route = self.register_connection(id, MainEnd::in_process(main_queues), identity, None);
        Renderer::start_in_process(id, renderer_queues, options, route)
    }

    /// Accepts one renderer connection over `transport`: performs the handshake (checking the
    /// protocol version and the contract hashes), then serves the renderer until either side
    /// closes.
    ///
    /// # Errors
    ///
    /// The reason the renderer was refused; the renderer is told the same reason before the
    /// connection closes. [`IpcError::VersionMismatch`] names both contract hashes.
    pub async fn accept(&self, transport: impl Transport) -> Result<RendererId, IpcError> {
        self.accept_link(transport, false).await
    }

    /// Accepts a **bridge**: a trusted peer that multiplexes many windows over one connection
    /// and names, in each `invoke` and `send` frame, the window that made it (`"sender"`: its
    /// id, frame URL and origin). Each window becomes a renderer of its own on main (its own
    /// [`RendererId`] and [`Caller`], events to it are routed through the bridge with `"to"`).
    /// This is how the Electron main-process bridge connects (`docs/PROTOCOL.md`); only accept
    /// bridges on a channel you trust, such as the stdio of the process that started you.
    /// A bridge may also connect as a plain renderer.
    ///
    /// # Errors
    ///
    /// As [`Main::accept`]; in-process ends cannot be bridges.
    pub async fn accept_bridge(&self, transport: impl Transport) -> Result<RendererId, IpcError> {
        self.accept_link(transport, true).await
    }

    async fn accept_link(
        &self,
        transport: impl Transport,
        allow_bridge: bool,
    ) -> Result<RendererId, IpcError> {
        let link = transport.into_link().0;
        // In-process renderers hold no descriptor: only connections across processes count.
        let slots = match &link {
            LinkKind::InProcess(_) => Vec::new(),
            LinkKind::Bytes(_) | LinkKind::Frames(_) => match self.connection_slots(None) {
                Ok(slots) => slots,
                Err(error) => return Err(accept::refuse_link(self, link, error).await),
            },
        };
        self.accept_admitted(link, allow_bridge, slots).await
    }

    /// Takes a connection slot (and one of `endpoint`'s), which the connection holds until it
    /// ends.
    ///
    /// # Errors
    ///
    /// [`IpcError::TooManyConnections`] with the limit that is reached.
    pub(crate) fn connection_slots(&self, endpoint: Option<&Slots>) -> Result<Vec<Slot>, IpcError> {
        let mut slots = Vec::with_capacity(2);
        if let Some(endpoint) = endpoint {
            slots.push(endpoint.try_take().ok_or(IpcError::TooManyConnections {
                limit: endpoint.limit(),
            })?);
        }
        let total = &self.inner.connections;
        slots.push(total.try_take().ok_or(IpcError::TooManyConnections {
            limit: total.limit(),
        })?);
        Ok(slots)
    }

    /// Serves a connection that was given its slots: the handshake, then the renderer.
    pub(crate) async fn accept_admitted(
        &self,
        link: LinkKind,
        allow_bridge: bool,
        slots: Vec<Slot>,
    ) -> Result<RendererId, IpcError> {
        match link {
            LinkKind::Bytes(link) => {
                let link = FrameLink::from_bytes(
                    link,
                    self.inner.config.limits(),
                    self.inner.held.clone(),
                    self.inner.config.frame_timeout,
                );
                accept::accept(self, link, allow_bridge, slots).await
            }
            LinkKind::Frames(link) => accept::accept(self, link, allow_bridge, slots).await,
            LinkKind::InProcess(end) => match end.side {
                Side::Main(hello) => {
                    let timeout = self.inner.config.handshake_timeout;
                    let hello = tokio::time::timeout(timeout, hello)
                        .await
                        .map_err(|_| IpcError::Protocol {
                            reason: format!("no hello within {timeout:?}"),
                        })?
                        .map_err(|_| IpcError::disconnected("the renderer's end was dropped"))?;
                    if let Err(error) =
                        handshake::check_contracts(&self.contracts(), &hello.contracts)
                    {
                        let _ = hello.answer.send(Err(error.clone()));
                        return Err(error);
                    }
                    let (main_queues, queues) = in_process::pair(hello.capacity);
                    let id = self.next_renderer_id();
                    let identity = PeerIdentity {
                        label: hello.label,
                        origin: hello.origin,
                        frame_url: hello.frame_url,
                        bridge: false,
                        peer: Peer::InProcess,
                    };
                    let route = self.register_connection(
                        id,
                        MainEnd::in_process(main_queues),
                        identity,
                        None,
                    );
                    hello
                        .answer
                        .send(Ok(LocalWelcome { id, queues, route }))
                        .map_err(|_| {
                            IpcError::disconnected("the renderer gave up during the handshake")
                        })?;
                    Ok(id)
                }
                Side::Renderer(_) => Err(IpcError::Protocol {
                    reason: "this is the renderer's end of the in-process pair".into(),
                }),
            },
        }
    }

    /// Declares a contract main serves (its namespace and hash), so renderers built from another
    /// version of it are refused at the handshake. `{Trait}::handle` declares it for you.
    ///
    /// Declaring a contract also puts its `#[policy(...)]` rules in force for its channels
    /// (see [`Main::set_grant`] for the whole authorization model).
    pub fn declare(&self, schema: &ipc_schema::Service) {
        self.declare_hash(schema);
        self.inner.write_registry().declare_rules(schema);
    }

    /// Makes the handshake check renderers against `schema`'s hash.
    pub(crate) fn declare_hash(&self, schema: &ipc_schema::Service) {
        lock(&self.inner.contracts).insert(schema.namespace.clone(), schema.hash.clone());
    }

    /// The declared contracts: namespace to hash.
    pub fn contracts(&self) -> BTreeMap<String, String> {
        lock(&self.inner.contracts).clone()
    }

    /// Bytes main holds now for messages renderers have begun but not finished sending (a large
    /// frame being read, a chunked message being reassembled), over every connection. It falls
    /// back when a message completes or its connection ends.
    pub fn partial_message_bytes(&self) -> usize {
        self.inner.held.bytes()
    }

    /// Connections across processes main holds now, handshakes included: what counts against
    /// [`MainBuilder::max_connections`]. A connection stops counting once its descriptor is
    /// closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Main, RendererOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let _local = main.connect_in_process(RendererOptions::new("in process"));
    /// assert_eq!(main.connection_count(), 0, "in-process renderers hold no descriptor");
    /// # }
    /// ```
    pub fn connection_count(&self) -> usize {
        self.inner.connections.taken()
    }

    /// The most connections across processes main serves at once
    /// ([`MainBuilder::max_connections`], by default derived from the open-file limit).
    ///
    /// # Examples
    ///
    /// ```
    /// let main = ipc_runtime::Main::builder().max_connections(100).build();
    /// assert_eq!(main.max_connections(), 100);
    /// ```
    pub fn max_connections(&self) -> usize {
        self.inner.connections.limit()
    }

    /// Disconnects every renderer and refuses new work. Pending calls in renderers fail with
    /// [`IpcError::Disconnected`].
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }
}

/// Looks up the handler of `channel` and starts a call (a panic while starting it fails this
/// call only, like a panic inside the future).
pub(crate) fn start_call(
    main: &MainInner,
    caller: &Caller,
    channel: &str,
    args: Payload,
) -> Result<BoxFuture<CallResult>, IpcError> {
    let handler = main.take_handler(caller, channel)?;
    match std::panic::catch_unwind(AssertUnwindSafe(|| handler(caller.clone(), args))) {
        Ok(Ok(call)) => Ok(call),
        Ok(Err(reason)) => Err(IpcError::BadArguments {
            channel: channel.to_string(),
            reason,
        }),
        Err(panic) => Err(IpcError::HandlerPanicked {
            channel: channel.to_string(),
            message: panic_message(&*panic),
        }),
    }
}
