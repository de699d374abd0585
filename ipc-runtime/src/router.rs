//! [`Main`]: the router on the main side. Electron's `ipcMain` registry semantics, a registry of
//! connected renderers, and event emission.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::caller::{Caller, RendererId};
use crate::channel::{EventChannel, InvokeChannel, SendChannel};
use crate::error::{IpcError, RegistryError};
use crate::events::Target;
use crate::message::{CallResult, Failure, SenderInfo, ToRenderer};
use crate::payload::Payload;
use crate::renderer::lock;
use crate::renderer::{Renderer, RendererOptions};
use crate::transport::in_process::{self, Side};
use crate::transport::stream::FrameLink;
use crate::transport::{LinkKind, MainEnd, Transport};

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An erased invoke handler: decodes its arguments (or says why it cannot) and returns the call.
pub(crate) type InvokeFn =
    Arc<dyn Fn(Caller, Payload) -> Result<BoxFuture<CallResult>, String> + Send + Sync>;

/// An erased send listener.
pub(crate) type ListenFn =
    Arc<dyn Fn(Caller, Payload) -> Result<BoxFuture<()>, String> + Send + Sync>;

/// Identifies one registered handler or listener (to remove exactly that one later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

/// Limits and defaults of a [`Main`].
#[derive(Debug, Clone)]
pub(crate) struct MainConfig {
    pub(crate) max_in_flight: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) send_queue_capacity: usize,
    pub(crate) max_frame_size: usize,
    pub(crate) handshake_timeout: Duration,
}

impl Default for MainConfig {
    fn default() -> Self {
        MainConfig {
            max_in_flight: 256,
            queue_capacity: 1024,
            send_queue_capacity: 256,
            max_frame_size: crate::framing::DEFAULT_MAX_FRAME,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }
}

/// Configures a [`Main`]; see [`Main::builder`].
///
/// # Examples
///
/// ```
/// let main = ipc_runtime::Main::builder().max_in_flight(32).queue_capacity(128).build();
/// # let _ = main;
/// ```
#[derive(Debug, Clone, Default)]
pub struct MainBuilder {
    config: MainConfig,
}

impl MainBuilder {
    /// The most calls one renderer may have in flight; past it, calls fail at once with
    /// [`IpcError::TooManyInFlight`]. Default 256.
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.config.max_in_flight = limit.max(1);
        self
    }

    /// Messages buffered per direction per renderer (replies and events queue here). Default 1024.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.config.queue_capacity = capacity.max(1);
        self
    }

    /// Sends buffered per renderer while earlier ones are being handled. Default 256; when it is
    /// full, main stops reading from that renderer until there is room (backpressure).
    pub fn send_queue_capacity(mut self, capacity: usize) -> Self {
        self.config.send_queue_capacity = capacity.max(1);
        self
    }

    /// The largest frame main accepts from a renderer across processes (default 4 MiB). A larger
    /// frame closes that connection with a stated reason (the stream cannot be resynchronized).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame_size = bytes.max(64);
        self
    }

    /// How long a connecting renderer has to say hello (default 5 s); a client that connects and
    /// says nothing is disconnected after it.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// Builds the router.
    pub fn build(self) -> Main {
        Main {
            inner: Arc::new(MainInner {
                config: self.config,
                registry: RwLock::new(Registry::default()),
                renderers: Mutex::new(HashMap::new()),
                next_renderer: AtomicU64::new(1),
                next_listener: AtomicU64::new(1),
                shutdown: CancellationToken::new(),
                contracts: Mutex::new(BTreeMap::new()),
            }),
        }
    }
}

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
}

/// What an in-process renderer needs to run its calls itself: the router, its identity, and
/// its connection's call slots, close signal and event count. In process a call needs no
/// message at all: the caller's task looks up the handler and runs it (see ARCHITECTURE.md).
#[derive(Clone)]
pub(crate) struct LocalRoute {
    pub(crate) main: Main,
    pub(crate) caller: Caller,
    pub(crate) slots: Arc<tokio::sync::Semaphore>,
    pub(crate) close: CancellationToken,
    pub(crate) events_queued: Arc<AtomicU64>,
}

/// Who a new connection says it is.
pub(crate) struct PeerIdentity {
    pub(crate) label: String,
    pub(crate) origin: Option<String>,
    pub(crate) frame_url: Option<String>,
    /// A bridge may name, per frame, the window that sent it.
    pub(crate) bridge: bool,
}

#[derive(Default)]
struct Registry {
    handlers: HashMap<Cow<'static, str>, HandlerEntry>,
    listeners: HashMap<Cow<'static, str>, Vec<ListenerEntry>>,
}

struct HandlerEntry {
    id: ListenerId,
    once: bool,
    func: InvokeFn,
}

#[derive(Clone)]
struct ListenerEntry {
    id: ListenerId,
    once: bool,
    func: ListenFn,
}

struct RendererEntry {
    /// Events queued to this connection (an in-process call waits for them before it returns,
    /// so events a handler emits arrive before its result).
    events_queued: Arc<AtomicU64>,
    caller: Caller,
    outgoing: tokio::sync::mpsc::Sender<ToRenderer>,
    close: CancellationToken,
    /// For a window behind a bridge: its id on the bridge (events to it carry `to`).
    route: Option<u64>,
    /// For a window behind a bridge: the bridge connection it belongs to.
    parent: Option<RendererId>,
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

    /// Registers the handler of an invoke channel (Electron's `ipcMain.handle`).
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] when the channel has a handler already.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::Never;
    /// use ipc_runtime::{InvokeChannel, Main};
    ///
    /// const PING: InvokeChannel<ipc_runtime::NoArgs, String, Never> = InvokeChannel::new("app:ping");
    /// let main = Main::new();
    /// main.handle(PING, |_, _| async { Ok("pong".to_string()) }).unwrap();
    /// assert!(main.handle(PING, |_, _| async { Ok("again".to_string()) }).is_err());
    /// ```
    pub fn handle<A, T, E, F, Fut>(
        &self,
        channel: InvokeChannel<A, T, E>,
        handler: F,
    ) -> Result<ListenerId, RegistryError>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut batch = self.registration();
        let id = batch.invoke_inner(channel.name(), false, erase_invoke(handler));
        batch.commit().map(|_| id)
    }

    /// Like [`Main::handle`], but the handler is removed after its first call (Electron's
    /// `ipcMain.handleOnce`).
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] when the channel has a handler already.
    pub fn handle_once<A, T, E, F, Fut>(
        &self,
        channel: InvokeChannel<A, T, E>,
        handler: F,
    ) -> Result<ListenerId, RegistryError>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut batch = self.registration();
        let id = batch.invoke_inner(channel.name(), true, erase_invoke(handler));
        batch.commit().map(|_| id)
    }

    /// Removes the handler of `channel` (Electron's `ipcMain.removeHandler`). Returns whether
    /// there was one. Calls already running finish normally.
    pub fn remove_handler(&self, channel: &str) -> bool {
        self.write_registry().handlers.remove(channel).is_some()
    }

    /// Whether `channel` has an invoke handler.
    pub fn has_handler(&self, channel: &str) -> bool {
        self.read_registry().handlers.contains_key(channel)
    }

    /// Adds a listener for a send channel (Electron's `ipcMain.on`). Several listeners may listen
    /// to one channel; each send reaches all of them in registration order.
    ///
    /// Sends from one renderer are handled one at a time, in the order they were sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Main, SendChannel};
    ///
    /// const LOG: SendChannel<(String,)> = SendChannel::new("app:log");
    /// let main = Main::new();
    /// let id = main.on(LOG, |caller, (line,)| async move { println!("{}: {line}", caller.label()) });
    /// assert!(main.remove_listener(LOG.name(), id));
    /// ```
    pub fn on<A, F, Fut>(&self, channel: SendChannel<A>, listener: F) -> ListenerId
    where
        A: DeserializeOwned + Clone + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut batch = self.registration();
        let id = batch.listen_inner(channel.name(), false, erase_listener(listener));
        batch.commit_listeners();
        id
    }

    /// Like [`Main::on`], but the listener is removed after the first send it receives
    /// (Electron's `ipcMain.once`).
    pub fn once<A, F, Fut>(&self, channel: SendChannel<A>, listener: F) -> ListenerId
    where
        A: DeserializeOwned + Clone + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut batch = self.registration();
        let id = batch.listen_inner(channel.name(), true, erase_listener(listener));
        batch.commit_listeners();
        id
    }

    /// Removes one listener (Electron's `ipcMain.removeListener`). Returns whether it was there.
    pub fn remove_listener(&self, channel: &str, id: ListenerId) -> bool {
        let mut registry = self.write_registry();
        let Some(list) = registry.listeners.get_mut(channel) else {
            return false;
        };
        let before = list.len();
        list.retain(|entry| entry.id != id);
        let removed = list.len() != before;
        if list.is_empty() {
            registry.listeners.remove(channel);
        }
        removed
    }

    /// Removes every listener of `channel` (Electron's `ipcMain.removeAllListeners`). Returns how
    /// many there were.
    pub fn remove_all_listeners(&self, channel: &str) -> usize {
        self.write_registry()
            .listeners
            .remove(channel)
            .map_or(0, |list| list.len())
    }

    /// How many listeners `channel` has.
    pub fn listener_count(&self, channel: &str) -> usize {
        self.read_registry()
            .listeners
            .get(channel)
            .map_or(0, Vec::len)
    }

    /// Emits an event to the renderers `target` selects (Electron's `webContents.send`). Returns
    /// how many renderers it was queued for.
    ///
    /// Delivery never waits: a renderer whose queue is full (it stopped reading) misses the event,
    /// which is logged, and the others still get it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{EventChannel, Main, RendererOptions, Target};
    /// use futures_util::StreamExt;
    ///
    /// const TICK: EventChannel<(u32,)> = EventChannel::new("clock:tick");
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let renderer = main.connect_in_process(RendererOptions::new("window"));
    /// let mut ticks = renderer.subscribe(TICK);
    /// assert_eq!(main.emit(TICK, Target::All, (7,)), 1);
    /// assert_eq!(ticks.next().await, Some((7,)));
    /// # }
    /// ```
    pub fn emit<A>(&self, channel: EventChannel<A>, target: impl Into<Target>, args: A) -> usize
    where
        A: Serialize + Send + Sync + 'static,
    {
        let target = target.into();
        let payload = Payload::shared(args);
        let renderers = self.lock_renderers();
        let mut delivered = 0;
        for entry in renderers.values() {
            // `All` reaches each connection once: a bridge fans an event without `to` out to
            // every window itself. Other targets address windows one by one.
            let selected = match &target {
                Target::All => entry.parent.is_none(),
                _ => target.matches(&entry.caller),
            };
            if !selected {
                continue;
            }
            let Some(payload) = payload.try_clone() else {
                continue;
            };
            let event = ToRenderer::Event {
                channel: Cow::Borrowed(channel.name()),
                payload,
                to: entry.route,
            };
            match entry.outgoing.try_send(event) {
                Ok(()) => {
                    entry.events_queued.fetch_add(1, Ordering::SeqCst);
                    delivered += 1;
                }
                Err(err) => tracing::warn!(
                    renderer = %entry.caller.id,
                    channel = channel.name(),
                    reason = %err,
                    "event not delivered"
                ),
            }
        }
        delivered
    }

    /// Connects a renderer that lives in this process. Values cross without being serialized.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime (the connection's tasks are spawned on it).
    pub fn connect_in_process(&self, options: RendererOptions) -> Renderer {
        let (main_end, renderer_end) = in_process::pair(self.inner.config.queue_capacity);
        let id = self.next_renderer_id();
        let identity = PeerIdentity {
            label: options.label.to_string(),
            origin: options.origin.as_deref().map(str::to_string),
            frame_url: options.frame_url.as_deref().map(str::to_string),
            bridge: false,
        };
        let route = self.register_connection(id, main_end, identity);
        Renderer::start(id, renderer_end, options, Some(route))
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
        match transport.into_link().0 {
            LinkKind::Bytes(link) => {
                let link = FrameLink::from_bytes(link, self.inner.config.max_frame_size);
                crate::transport::stream::accept(self, link, allow_bridge).await
            }
            LinkKind::Frames(link) => {
                crate::transport::stream::accept(self, link, allow_bridge).await
            }
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
                        crate::handshake::check_contracts(&self.contracts(), &hello.contracts)
                    {
                        let _ = hello.answer.send(Err(error.clone()));
                        return Err(error);
                    }
                    let (main_end, renderer_end) = in_process::pair(hello.capacity);
                    let id = self.next_renderer_id();
                    let identity = PeerIdentity {
                        label: hello.label,
                        origin: hello.origin,
                        frame_url: hello.frame_url,
                        bridge: false,
                    };
                    let route = self.register_connection(id, main_end, identity);
                    hello
                        .answer
                        .send(Ok((id, renderer_end, route)))
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
    pub fn declare(&self, schema: &ipc_schema::Service) {
        lock(&self.inner.contracts).insert(schema.namespace.clone(), schema.hash.clone());
    }

    /// The declared contracts: namespace to hash.
    pub fn contracts(&self) -> BTreeMap<String, String> {
        lock(&self.inner.contracts).clone()
    }

    pub(crate) fn next_renderer_id(&self) -> RendererId {
        RendererId(self.inner.next_renderer.fetch_add(1, Ordering::Relaxed))
    }

    /// Registers a connection and starts serving it. Returns the token that closes it.
    pub(crate) fn register_connection(
        &self,
        id: RendererId,
        end: MainEnd,
        identity: PeerIdentity,
    ) -> LocalRoute {
        let caller = Caller {
            id,
            label: Arc::from(identity.label),
            origin: identity.origin.map(Arc::from),
            frame_url: identity.frame_url.map(Arc::from),
        };
        let close = self.inner.shutdown.child_token();
        let events_queued = Arc::new(AtomicU64::new(0));
        let slots = Arc::new(tokio::sync::Semaphore::new(self.inner.config.max_in_flight));
        let route = LocalRoute {
            main: self.clone(),
            caller: caller.clone(),
            slots: slots.clone(),
            close: close.clone(),
            events_queued: events_queued.clone(),
        };
        self.lock_renderers().insert(
            id,
            RendererEntry {
                events_queued: events_queued.clone(),
                caller: caller.clone(),
                outgoing: end.outgoing.clone(),
                close: close.clone(),
                route: None,
                parent: None,
            },
        );
        tokio::spawn(crate::connection::serve(
            self.clone(),
            caller,
            end,
            close.clone(),
            identity.bridge,
            slots,
        ));
        route
    }

    /// Registers (or updates) a window behind a bridge connection as a renderer of its own.
    pub(crate) fn register_window(
        &self,
        bridge: &Caller,
        sender: &SenderInfo,
        existing: Option<RendererId>,
        outgoing: tokio::sync::mpsc::Sender<ToRenderer>,
    ) -> Caller {
        let id = existing.unwrap_or_else(|| self.next_renderer_id());
        let caller = Caller {
            id,
            label: bridge.label.clone(),
            origin: sender.origin.as_deref().map(Arc::from),
            frame_url: sender.url.as_deref().map(Arc::from),
        };
        self.lock_renderers().insert(
            id,
            RendererEntry {
                // Windows share their bridge's queue but never take in-process replies.
                events_queued: Arc::new(AtomicU64::new(0)),
                caller: caller.clone(),
                outgoing,
                close: CancellationToken::new(),
                route: Some(sender.id),
                parent: Some(bridge.id),
            },
        );
        caller
    }

    pub(crate) fn forget_renderer(&self, id: RendererId) {
        self.lock_renderers().remove(&id);
    }

    /// The identity of a connected renderer.
    pub fn renderer(&self, id: RendererId) -> Option<Caller> {
        self.lock_renderers().get(&id).map(|e| e.caller.clone())
    }

    /// Every connected renderer, by id.
    pub fn renderers(&self) -> Vec<Caller> {
        let mut list: Vec<Caller> = self
            .lock_renderers()
            .values()
            .map(|e| e.caller.clone())
            .collect();
        list.sort_by_key(|c| c.id);
        list
    }

    /// How many renderers are connected.
    pub fn renderer_count(&self) -> usize {
        self.lock_renderers().len()
    }

    /// Disconnects one renderer: its running calls are cancelled and its pending calls fail with
    /// [`IpcError::Disconnected`]. Returns whether it was connected.
    pub fn disconnect(&self, id: RendererId) -> bool {
        let mut renderers = self.lock_renderers();
        match renderers.get(&id) {
            // A window behind a bridge has no connection of its own: main forgets it.
            Some(entry) if entry.parent.is_some() => renderers.remove(&id).is_some(),
            Some(entry) => {
                entry.close.cancel();
                true
            }
            None => false,
        }
    }

    /// Disconnects every renderer and refuses new work. Pending calls in renderers fail with
    /// [`IpcError::Disconnected`].
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// Starts a batch of registrations that takes effect all at once (used by generated
    /// `{Trait}::handle`).
    #[doc(hidden)]
    pub fn registration(&self) -> RegistrationBatch {
        RegistrationBatch {
            main: self.clone(),
            handlers: Vec::new(),
            listeners: Vec::new(),
            contracts: Vec::new(),
        }
    }

    /// Looks up the handler of `channel`, taking it out when it was registered with `handle_once`.
    pub(crate) fn take_handler(&self, channel: &str) -> Option<InvokeFn> {
        {
            let registry = self.read_registry();
            let entry = registry.handlers.get(channel)?;
            if !entry.once {
                return Some(entry.func.clone());
            }
        }
        let mut registry = self.write_registry();
        match registry.handlers.get(channel) {
            Some(entry) if entry.once => registry.handlers.remove(channel).map(|e| e.func),
            Some(entry) => Some(entry.func.clone()),
            None => None,
        }
    }

    /// The listeners of `channel`, in order, taking out the `once` ones.
    pub(crate) fn take_listeners(&self, channel: &str) -> Vec<ListenFn> {
        let has_once = {
            let registry = self.read_registry();
            match registry.listeners.get(channel) {
                None => return Vec::new(),
                Some(list) if !list.iter().any(|e| e.once) => {
                    return list.iter().map(|e| e.func.clone()).collect();
                }
                Some(_) => true,
            }
        };
        debug_assert!(has_once);
        let mut registry = self.write_registry();
        let Some(list) = registry.listeners.get_mut(channel) else {
            return Vec::new();
        };
        let funcs = list.iter().map(|e| e.func.clone()).collect();
        list.retain(|e| !e.once);
        if list.is_empty() {
            registry.listeners.remove(channel);
        }
        funcs
    }

    fn read_registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        // A panic while holding the lock cannot leave the maps half-updated (every update is one
        // insert or remove), so a poisoned lock is still consistent.
        self.inner
            .registry
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_registry(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.inner
            .registry
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_renderers(&self) -> std::sync::MutexGuard<'_, HashMap<RendererId, RendererEntry>> {
        self.inner
            .renderers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn next_listener_id(&self) -> ListenerId {
        ListenerId(self.inner.next_listener.fetch_add(1, Ordering::Relaxed))
    }
}

fn erase_invoke<A, T, E, F, Fut>(handler: F) -> InvokeFn
where
    A: DeserializeOwned + Send + 'static,
    T: Serialize + Send + 'static,
    E: Serialize + Send + 'static,
    F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    Arc::new(move |caller, args: Payload| {
        let args: A = args.take()?;
        let call = handler(caller, args);
        Ok(Box::pin(async move {
            match call.await {
                Ok(value) => Ok(Payload::value(value)),
                Err(error) => Err(Failure::App(Payload::value(error))),
            }
        }) as BoxFuture<CallResult>)
    })
}

fn erase_listener<A, F, Fut>(listener: F) -> ListenFn
where
    A: DeserializeOwned + Clone + Send + 'static,
    F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |caller, args: Payload| {
        let args: A = args.take_cloned()?;
        Ok(Box::pin(listener(caller, args)) as BoxFuture<()>)
    })
}

/// Several registrations applied together, or not at all. Built by generated code.
#[doc(hidden)]
pub struct RegistrationBatch {
    main: Main,
    handlers: Vec<(Cow<'static, str>, HandlerEntry)>,
    listeners: Vec<(Cow<'static, str>, ListenerEntry)>,
    contracts: Vec<&'static ipc_schema::Service>,
}

impl RegistrationBatch {
    /// Adds an invoke handler.
    pub fn invoke<A, T, E, F, Fut>(&mut self, channel: InvokeChannel<A, T, E>, handler: F)
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.invoke_inner(channel.name(), false, erase_invoke(handler));
    }

    /// Adds a send listener.
    pub fn listen<A, F, Fut>(&mut self, channel: SendChannel<A>, listener: F)
    where
        A: DeserializeOwned + Clone + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.listen_inner(channel.name(), false, erase_listener(listener));
    }

    /// Declares the contract being registered (see [`Main::declare`]); takes effect with the
    /// rest of the batch, and only if the batch is accepted.
    pub fn contract(&mut self, schema: &'static ipc_schema::Service) {
        self.contracts.push(schema);
    }

    fn invoke_inner(&mut self, channel: &'static str, once: bool, func: InvokeFn) -> ListenerId {
        let id = self.main.next_listener_id();
        self.handlers
            .push((Cow::Borrowed(channel), HandlerEntry { id, once, func }));
        id
    }

    fn listen_inner(&mut self, channel: &'static str, once: bool, func: ListenFn) -> ListenerId {
        let id = self.main.next_listener_id();
        self.listeners
            .push((Cow::Borrowed(channel), ListenerEntry { id, once, func }));
        id
    }

    fn commit_listeners(self) {
        let mut registry = self.main.write_registry();
        for (channel, entry) in self.listeners {
            registry.listeners.entry(channel).or_default().push(entry);
        }
    }

    /// Applies every registration, or none when a channel already has a handler.
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] naming the first channel that is taken.
    pub fn commit(self) -> Result<Registration, RegistryError> {
        let mut registry = self.main.write_registry();
        if let Some((channel, _)) = self
            .handlers
            .iter()
            .find(|(channel, _)| registry.handlers.contains_key(channel))
        {
            return Err(RegistryError::AlreadyHandled {
                channel: channel.to_string(),
            });
        }
        let mut registration = Registration {
            main: self.main.clone(),
            handlers: Vec::new(),
            listeners: Vec::new(),
        };
        for (channel, entry) in self.handlers {
            registration.handlers.push((channel.clone(), entry.id));
            registry.handlers.insert(channel, entry);
        }
        for (channel, entry) in self.listeners {
            registration.listeners.push((channel.clone(), entry.id));
            registry.listeners.entry(channel).or_default().push(entry);
        }
        drop(registry);
        for schema in self.contracts {
            self.main.declare(schema);
        }
        Ok(registration)
    }
}

/// The handlers and listeners one `{Trait}::handle` call registered. They stay registered until
/// [`Registration::remove`] (dropping this value keeps them, as Electron's `handle` does).
///
/// # Examples
///
/// ```
/// use ipc_runtime::Never;
/// use ipc_runtime::{InvokeChannel, Main};
///
/// const PING: InvokeChannel<ipc_runtime::NoArgs, u8, Never> = InvokeChannel::new("a:ping");
/// let main = Main::new();
/// let mut batch = main.registration();
/// batch.invoke(PING, |_, _| async { Ok(1) });
/// let registration = batch.commit().unwrap();
/// assert_eq!(registration.channels(), vec!["a:ping"]);
/// assert_eq!(registration.remove(), 1);
/// assert!(!main.has_handler("a:ping"));
/// ```
#[must_use = "dropping a Registration keeps the handlers; call `.remove()` to unregister them"]
pub struct Registration {
    main: Main,
    handlers: Vec<(Cow<'static, str>, ListenerId)>,
    listeners: Vec<(Cow<'static, str>, ListenerId)>,
}

impl Registration {
    /// The channels this registration covers.
    pub fn channels(&self) -> Vec<&str> {
        self.handlers
            .iter()
            .chain(&self.listeners)
            .map(|(c, _)| c.as_ref())
            .collect()
    }

    /// Removes exactly what this registration added (a handler someone registered later on the
    /// same channel is left alone). Returns how many entries were removed.
    pub fn remove(self) -> usize {
        let mut registry = self.main.write_registry();
        let mut removed = 0;
        for (channel, id) in &self.handlers {
            if registry.handlers.get(channel).is_some_and(|e| e.id == *id) {
                registry.handlers.remove(channel);
                removed += 1;
            }
        }
        for (channel, id) in &self.listeners {
            if let Some(list) = registry.listeners.get_mut(channel) {
                let before = list.len();
                list.retain(|e| e.id != *id);
                removed += before - list.len();
                if list.is_empty() {
                    registry.listeners.remove(channel);
                }
            }
        }
        removed
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("channels", &self.channels())
            .finish()
    }
}

/// How long a connecting peer has to complete the handshake by default.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call may take when neither the call nor the renderer sets a deadline.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_string()
    }
}

pub(crate) fn no_handler(channel: &str) -> IpcError {
    IpcError::NoHandler {
        channel: channel.to_string(),
    }
}
