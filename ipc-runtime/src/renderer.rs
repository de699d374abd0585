//! [`Renderer`]: a renderer's connection to main (Electron's `ipcRenderer`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use std::collections::BTreeMap;

use crate::call::TryCall;
use crate::caller::RendererId;
use crate::channel::{EventChannel, InvokeChannel, SendChannel};
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use std::pin::Pin;
use std::task::Poll;

use crate::codec::Codec;
use crate::connection::{GuardedCall, handler_outcome};
use crate::deadline::Deadlines;
use crate::error::IpcError;
use crate::events::EventStream;
use crate::framing::DEFAULT_MAX_FRAME;
use crate::message::{CallResult, ChannelName, Failure, ToMain, ToRenderer};
use crate::payload::Payload;
use crate::pending::PendingCalls;
use crate::router::LocalRoute;
use crate::router::{DEFAULT_CALL_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT};
use crate::transport::in_process::{LocalHello, Side};
use crate::transport::stream::FrameLink;
use crate::transport::stream::PostError;
use crate::transport::{FromMain, LinkKind, RendererEnd, ToMainQueue, Transport};

/// How a renderer identifies itself and its defaults.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ipc_runtime::RendererOptions;
///
/// let options = RendererOptions::new("settings-window")
///     .origin("app://settings")
///     .default_timeout(Duration::from_secs(5));
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct RendererOptions {
    pub(crate) label: Arc<str>,
    pub(crate) origin: Option<Arc<str>>,
    pub(crate) frame_url: Option<Arc<str>>,
    pub(crate) default_timeout: Option<Duration>,
    pub(crate) event_buffer: usize,
    pub(crate) codec: Codec,
    pub(crate) max_frame_size: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) contracts: BTreeMap<String, String>,
}

impl RendererOptions {
    /// Options with a label (shown to handlers as [`Caller::label`](crate::Caller::label)).
    pub fn new(label: impl Into<String>) -> Self {
        RendererOptions {
            label: Arc::from(label.into()),
            origin: None,
            frame_url: None,
            default_timeout: Some(DEFAULT_CALL_TIMEOUT),
            event_buffer: 256,
            codec: Codec::Binary,
            max_frame_size: DEFAULT_MAX_FRAME,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            queue_capacity: 1024,
            contracts: BTreeMap::new(),
        }
    }

    /// Declares a contract this renderer was built with (pass `Todos::schema()`). Main refuses
    /// the connection with [`IpcError::VersionMismatch`] when it knows the same namespace with a
    /// different hash.
    pub fn contract(mut self, schema: &ipc_schema::Service) -> Self {
        self.contracts
            .insert(schema.namespace.clone(), schema.hash.clone());
        self
    }

    /// The codec across processes (default [`Codec::Binary`]; JavaScript peers use JSON).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// The largest frame this renderer accepts (default 4 MiB).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes.max(64);
        self
    }

    /// How long to wait for main's hello (default 5 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Messages buffered per direction (default 1024).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// The web origin of the renderer, shown to handlers.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(Arc::from(origin.into()));
        self
    }

    /// The URL of the renderer's frame, shown to handlers.
    pub fn frame_url(mut self, url: impl Into<String>) -> Self {
        self.frame_url = Some(Arc::from(url.into()));
        self
    }

    /// The deadline of calls that set none themselves (default 30 s).
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = Some(timeout);
        self
    }

    /// Calls without their own deadline wait as long as it takes.
    pub fn no_default_timeout(mut self) -> Self {
        self.default_timeout = None;
        self
    }

    /// Events buffered per subscription; while a subscription is this far behind, new events
    /// for it are dropped (and logged)
    /// (default 256).
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events.max(1);
        self
    }
}

/// A renderer's connection to main: invoke, send, and event subscriptions.
///
/// Generated clients (`{Trait}Client`) wrap a `Renderer`; it is a cheap handle (`Clone`), and the
/// connection closes when the last clone is dropped.
///
/// # Examples
///
/// ```
/// use ipc_runtime::{Main, RendererOptions, SendChannel};
///
/// const LOG: SendChannel<(String,)> = SendChannel::new("app:log");
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// let renderer = main.connect_in_process(RendererOptions::new("worker"));
/// renderer.send(LOG, ("started".to_string(),)).unwrap();
/// # }
/// ```
#[derive(Clone)]
pub struct Renderer {
    pub(crate) inner: Arc<RendererInner>,
}

pub(crate) struct RendererInner {
    id: RendererId,
    outgoing: ToMainQueue,
    default_timeout: Option<Duration>,
    next_call: AtomicU64,
    shared: Arc<Shared>,
    /// In process: calls run in the caller's task, straight against main's registry, with
    /// deadlines of their own for the calls that have to wait.
    route: Option<(LocalRoute, Arc<Deadlines>)>,
}

/// State the reader task shares with the handles.
struct Shared {
    pending: Arc<PendingCalls>,
    /// Why the connection closed; set once it has (read without a lock on every call).
    reason: OnceLock<String>,
    /// Cancelled once `reason` is set, for whoever waits for the end.
    closed: CancellationToken,
    /// Events taken off the queue (and handed to subscribers) so far, with a signal per step.
    events_seen: AtomicU64,
    event_progress: tokio::sync::Notify,
    subscribers: Mutex<HashMap<ChannelName, Vec<mpsc::Sender<Payload>>>>,
    event_buffer: usize,
}

impl Renderer {
    pub(crate) fn start(
        id: RendererId,
        end: RendererEnd,
        options: RendererOptions,
        route: Option<LocalRoute>,
    ) -> Renderer {
        let shared = Arc::new(Shared {
            pending: end.pending,
            reason: OnceLock::new(),
            closed: CancellationToken::new(),
            subscribers: Mutex::new(HashMap::new()),
            event_buffer: options.event_buffer,
            events_seen: AtomicU64::new(0),
            event_progress: tokio::sync::Notify::new(),
        });
        tokio::spawn(read_from_main(shared.clone(), end.incoming));
        let stop = shared.closed.clone().cancelled_owned();
        let route = match route {
            Some(route) => Some((route, Deadlines::start(stop))),
            None => {
                let pending = shared.pending.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        () = pending.sweep() => {}
                        () = stop => {}
                    }
                });
                None
            }
        };
        Renderer {
            inner: Arc::new(RendererInner {
                id,
                outgoing: end.outgoing,
                default_timeout: options.default_timeout,
                next_call: AtomicU64::new(1),
                shared,
                route,
            }),
        }
    }

    /// Connects to main over `transport` (a Unix socket, stdio, an in-process end, any
    /// [`ByteStream`](crate::ByteStream)) and performs the handshake.
    ///
    /// # Errors
    ///
    /// [`IpcError::VersionMismatch`] when main was built from a different contract or protocol
    /// version (the message names both hashes); [`IpcError::Protocol`] or
    /// [`IpcError::Disconnected`] when the handshake fails.
    pub async fn connect(
        transport: impl Transport,
        options: RendererOptions,
    ) -> Result<Renderer, IpcError> {
        match transport.into_link().0 {
            LinkKind::Bytes(link) => {
                let link = FrameLink::from_bytes(link, options.max_frame_size);
                crate::transport::stream::connect(link, options).await
            }
            LinkKind::Frames(link) => crate::transport::stream::connect(link, options).await,
            LinkKind::InProcess(end) => match end.side {
                Side::Renderer(hello) => {
                    let (answer, answered) = oneshot::channel();
                    let sent = hello.send(LocalHello {
                        label: options.label.to_string(),
                        origin: options.origin.as_deref().map(str::to_string),
                        frame_url: options.frame_url.as_deref().map(str::to_string),
                        contracts: options.contracts.clone(),
                        capacity: options.queue_capacity,
                        answer,
                    });
                    if sent.is_err() {
                        return Err(IpcError::disconnected("main's end was dropped"));
                    }
                    let (id, end, route) =
                        tokio::time::timeout(options.handshake_timeout, answered)
                            .await
                            .map_err(|_| IpcError::Protocol {
                                reason: format!(
                                    "main did not accept within {:?}",
                                    options.handshake_timeout
                                ),
                            })?
                            .map_err(|_| IpcError::disconnected("main dropped the connection"))??;
                    Ok(Renderer::start(id, end, options, Some(route)))
                }
                Side::Main(_) => Err(IpcError::Protocol {
                    reason: "this is main's end of the in-process pair".into(),
                }),
            },
        }
    }

    /// Connects to main listening on a Unix socket at `path`.
    ///
    /// # Errors
    ///
    /// [`IpcError::Disconnected`] when nothing listens there, or as [`Renderer::connect`].
    pub async fn connect_unix(
        path: impl AsRef<std::path::Path>,
        options: RendererOptions,
    ) -> Result<Renderer, IpcError> {
        let path = path.as_ref();
        let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| {
            IpcError::disconnected(format!("cannot connect to {}: {e}", path.display()))
        })?;
        Renderer::connect(stream, options).await
    }

    /// Connects to main over this process's stdin and stdout (for a renderer that main started
    /// with [`Main::spawn_renderer`](crate::Main::spawn_renderer)). Write logs to stderr: stdout
    /// carries the protocol.
    ///
    /// # Errors
    ///
    /// As [`Renderer::connect`].
    pub async fn connect_stdio(options: RendererOptions) -> Result<Renderer, IpcError> {
        Renderer::connect(crate::transport::Stdio::current(), options).await
    }

    /// The id main gave this renderer.
    pub fn id(&self) -> RendererId {
        self.inner.id
    }

    /// The deadline of calls that set none themselves.
    pub fn default_timeout(&self) -> Option<Duration> {
        self.inner.default_timeout
    }

    /// Invokes a channel and waits for its reply (Electron's `ipcRenderer.invoke`).
    ///
    /// The returned call can be given its own deadline with [`TryCall::timeout`]; dropping it
    /// cancels the handler on main.
    ///
    /// # Errors
    ///
    /// [`CallError::App`](crate::CallError::App) with the handler's own error, or
    /// [`CallError::Ipc`](crate::CallError::Ipc) for framework failures.
    pub fn invoke<A, T, E>(&self, channel: InvokeChannel<A, T, E>, args: A) -> TryCall<T, E>
    where
        A: Serialize + Send + 'static,
        T: DeserializeOwned + 'static,
        E: DeserializeOwned + 'static,
    {
        TryCall::new(
            self.clone(),
            Cow::Borrowed(channel.name()),
            Payload::value(args),
        )
    }

    /// Sends a fire-and-forget message (Electron's `ipcRenderer.send`). Sends from one renderer
    /// reach main's listeners in order.
    ///
    /// # Errors
    ///
    /// [`IpcError::Disconnected`] when main is gone, [`IpcError::TooLarge`]-style refusals are
    /// reported by the transport; a full queue is reported as
    /// [`IpcError::TooManyInFlight`] rather than waiting.
    pub fn send<A>(&self, channel: SendChannel<A>, args: A) -> Result<(), IpcError>
    where
        A: Serialize + Send + Sync + 'static,
    {
        if self.is_closed() {
            return Err(self.disconnected_error());
        }
        let message = ToMain::Send {
            channel: Cow::Borrowed(channel.name()),
            args: Payload::shared(args),
            sender: None,
        };
        self.inner
            .outgoing
            .try_post(message)
            .map_err(|err| match err {
                PostError::Full => IpcError::TooManyInFlight {
                    limit: self.inner.outgoing.capacity(),
                },
                PostError::Closed => self.disconnected_error(),
                PostError::Refused(error) => error,
            })
    }

    /// Subscribes to an event channel (Electron's `ipcRenderer.on`). The stream ends when the
    /// connection closes; dropping it unsubscribes.
    pub fn subscribe<A>(&self, channel: EventChannel<A>) -> EventStream<A>
    where
        A: DeserializeOwned + Clone + Send + 'static,
    {
        self.subscribe_with(channel, Ok)
    }

    /// Subscribes and maps each event's arguments (generated clients unwrap one-argument tuples).
    #[doc(hidden)]
    pub fn subscribe_with<A, T>(
        &self,
        channel: EventChannel<A>,
        map: fn(A) -> Result<T, String>,
    ) -> EventStream<T>
    where
        A: DeserializeOwned + Clone + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(self.inner.shared.event_buffer);
        if !self.is_closed() {
            lock(&self.inner.shared.subscribers)
                .entry(Cow::Borrowed(channel.name()))
                .or_default()
                .push(tx);
        }
        EventStream::new(channel.name(), rx, map)
    }

    /// How many live subscriptions `channel` has in this renderer.
    pub fn subscription_count(&self, channel: &str) -> usize {
        let mut subscribers = lock(&self.inner.shared.subscribers);
        match subscribers.get_mut(channel) {
            Some(list) => {
                list.retain(|tx| !tx.is_closed());
                list.len()
            }
            None => 0,
        }
    }

    /// Whether the connection to main has closed.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.reason.get().is_some()
    }

    /// Waits until the connection to main closes and returns why.
    pub async fn closed(&self) -> String {
        let shared = &self.inner.shared;
        shared.closed.cancelled().await;
        shared.reason.get().cloned().unwrap_or_default()
    }

    /// The error for an in-process call cut off because main closed the connection: the reason
    /// the reader records from main's goodbye, without waiting for the reader to get there.
    fn closed_by_main(&self) -> IpcError {
        let recorded = self.inner.shared.reason.get().cloned();
        IpcError::disconnected(
            recorded.unwrap_or_else(|| goodbye_reason(crate::connection::CLOSED_BY_MAIN)),
        )
    }

    fn disconnected_error(&self) -> IpcError {
        let reason = self.inner.shared.reason.get().cloned();
        IpcError::disconnected(reason.unwrap_or_else(|| "main is gone".into()))
    }

    /// An in-process call, run in the caller's task: no message, no task hop. Same rules as a
    /// call main runs: the connection's in-flight limit, panics caught, the deadline, and a
    /// prompt `Disconnected` when main closes the connection; dropping the future drops the
    /// handler.
    async fn call_local(
        &self,
        (route, deadlines): &(LocalRoute, Arc<Deadlines>),
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
    ) -> CallResult {
        if route.close.is_cancelled() {
            return Err(Failure::Ipc(self.closed_by_main()));
        }
        let Ok(slot) = route.slots.try_acquire() else {
            return Err(Failure::Ipc(IpcError::TooManyInFlight {
                limit: route.main.inner.config.max_in_flight,
            }));
        };
        let call = crate::connection::prepare_call(&route.main, &route.caller, &channel, args)
            .map_err(Failure::Ipc)?;
        let mut call = AssertUnwindSafe(call).catch_unwind();
        // Most handlers finish at their first poll (nothing to wait for). Such a call needs no
        // deadline and no watch on the connection: only its first poll is made here.
        let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut call).poll(cx))).await;
        let outcome = match first {
            // A closed connection wins over a result that happens to be ready.
            Poll::Ready(_) if route.close.is_cancelled() => {
                Err(Failure::Ipc(self.closed_by_main()))
            }
            Poll::Ready(outcome) => handler_outcome(&channel, outcome),
            Poll::Pending => {
                self.wait_local(route, deadlines, &channel, call, timeout)
                    .await
            }
        };
        drop(slot);
        self.wait_for_events(route.events_queued.load(Ordering::SeqCst))
            .await;
        outcome
    }

    /// The rest of an in-process call whose handler has to wait.
    async fn wait_local(
        &self,
        route: &LocalRoute,
        deadlines: &Arc<Deadlines>,
        channel: &str,
        call: GuardedCall,
        timeout: Option<Duration>,
    ) -> CallResult {
        let id = self.inner.next_call.fetch_add(1, Ordering::Relaxed);
        let mut deadline = timeout.map(|limit| (limit, deadlines.register(id, limit)));
        let expired = async {
            match &mut deadline {
                Some((limit, deadline)) => {
                    deadline.expired().await;
                    *limit
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            // A closed connection wins over a result that happens to be ready.
            biased;
            () = route.close.cancelled() => Err(Failure::Ipc(self.closed_by_main())),
            outcome = call => handler_outcome(channel, outcome),
            after = expired => Err(Failure::Ipc(IpcError::Timeout {
                channel: channel.to_string(),
                after,
            })),
        }
    }

    /// Waits until the reader has handed over `count` events (in process, the ones main queued
    /// before the reply, which took a shorter path), or the connection closed.
    async fn wait_for_events(&self, count: u64) {
        let shared = &self.inner.shared;
        loop {
            let progress = shared.event_progress.notified();
            if shared.events_seen.load(Ordering::SeqCst) >= count || self.is_closed() {
                return;
            }
            progress.await;
        }
    }

    /// Whether calls run in the caller's task (an in-process renderer).
    pub(crate) fn is_local(&self) -> bool {
        self.inner.route.is_some()
    }

    /// Runs one in-process call (see `call_local`).
    pub(crate) async fn call_in_process(
        self,
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
    ) -> CallResult {
        if self.is_closed() {
            return Err(Failure::Ipc(self.disconnected_error()));
        }
        match &self.inner.route {
            Some(route) => self.call_local(route, channel, args, timeout).await,
            None => Err(Failure::Ipc(IpcError::Protocol {
                reason: "not an in-process renderer".into(),
            })),
        }
    }

    /// Runs one call across a connection: queues it, waits for the reply within its deadline,
    /// cancels on drop.
    pub(crate) async fn call_remote(
        self,
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
    ) -> CallResult {
        let inner = &self.inner;
        if self.is_closed() {
            return Err(Failure::Ipc(self.disconnected_error()));
        }
        let id = inner.next_call.fetch_add(1, Ordering::Relaxed);
        // Refused once the connection has closed (a reply could not come).
        let Some(mut answer) = inner.shared.pending.insert(id, channel.clone(), timeout) else {
            return Err(Failure::Ipc(self.disconnected_error()));
        };
        let guard = CancelOnDrop {
            renderer: &self,
            id,
        };
        let message = ToMain::Invoke {
            id,
            channel,
            args,
            timeout,
            sender: None,
        };
        // Queuing waits only when the outbox is full (main is not reading): the call's deadline
        // and the connection closing still end it then, through its reply slot.
        let posted = tokio::select! {
            biased;
            posted = inner.outgoing.post(message) => posted,
            early = &mut answer => {
                guard.disarm();
                return match early {
                    Ok(result) => result,
                    Err(_) => Err(Failure::Ipc(self.disconnected_error())),
                };
            }
        };
        match posted {
            Ok(()) => {}
            Err(PostError::Refused(error)) => {
                inner.shared.pending.remove(id);
                guard.disarm();
                return Err(Failure::Ipc(error));
            }
            Err(PostError::Full | PostError::Closed) => {
                inner.shared.pending.remove(id);
                guard.disarm();
                return Err(Failure::Ipc(self.disconnected_error()));
            }
        }
        // The deadline fails the reply slot itself: the call only ever waits for its slot.
        match answer.await {
            // Timed out here: the guard tells main to stop the handler.
            Ok(Err(Failure::Ipc(error @ IpcError::Timeout { .. }))) => Err(Failure::Ipc(error)),
            Ok(result) => {
                guard.disarm();
                result
            }
            // The reply slot was dropped because the connection is closing.
            Err(_) => {
                guard.disarm();
                Err(Failure::Ipc(self.disconnected_error()))
            }
        }
    }
}

impl fmt::Debug for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renderer")
            .field("id", &self.inner.id)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Tells main to stop a call whose future was dropped (or timed out) before its reply came.
struct CancelOnDrop<'a> {
    renderer: &'a Renderer,
    id: u64,
}

impl CancelOnDrop<'_> {
    /// The call ended with a reply: send no cancel.
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        let inner = &self.renderer.inner;
        inner.shared.pending.remove(self.id);
        let cancel = ToMain::Cancel { id: self.id };
        if let Err(PostError::Full) = inner.outgoing.try_post(cancel) {
            // The queue is full: deliver the cancel as soon as there is room. If no runtime is
            // running, main's deadline for the call still ends it.
            let outgoing = inner.outgoing.clone();
            let id = self.id;
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = outgoing.post(ToMain::Cancel { id }).await;
                });
            }
        }
    }
}

async fn read_from_main(shared: Arc<Shared>, mut incoming: FromMain) {
    let mut reason = String::from("main closed the connection");
    while let Some(message) = incoming.next().await {
        match message {
            ToRenderer::Reply { id, result } => shared.pending.complete(id, result),
            ToRenderer::Event {
                channel, payload, ..
            } => {
                deliver_event(&shared, &channel, payload);
                shared.events_seen.fetch_add(1, Ordering::SeqCst);
                shared.event_progress.notify_waiters();
            }
            ToRenderer::Notice {
                id: Some(id),
                error,
            } => shared.pending.complete(id, Err(Failure::Ipc(error))),
            ToRenderer::Notice { id: None, error } => {
                tracing::warn!(%error, "main reported an error");
            }
            ToRenderer::Goodbye { reason: said } => {
                reason = goodbye_reason(&said);
                break;
            }
        }
    }
    // The reason first: a call that sees the connection closed (or its reply slot dropped, just
    // below) reports it.
    let _ = shared.reason.set(reason);
    shared.closed.cancel();
    shared.event_progress.notify_waiters();
    // Dropping the reply slots fails every pending call with `Disconnected`; dropping the
    // subscriber senders ends every event stream.
    shared.pending.close();
    lock(&shared.subscribers).clear();
}

/// Why the connection closed, when main said goodbye with `said`.
fn goodbye_reason(said: &str) -> String {
    format!("main closed the connection: {said}")
}

fn deliver_event(shared: &Shared, channel: &str, payload: Payload) {
    let mut subscribers = lock(&shared.subscribers);
    let Some(list) = subscribers.get_mut(channel) else {
        return;
    };
    list.retain(|tx| {
        let Some(copy) = payload.try_clone() else {
            return true;
        };
        match tx.try_send(copy) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(channel, "event subscriber is not keeping up; event dropped");
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    });
    if list.is_empty() {
        subscribers.remove(channel);
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here is a single map operation, so a poisoned map is consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
