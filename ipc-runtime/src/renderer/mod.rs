//! The renderer's side: [`Renderer`], a renderer's connection to main (Electron's
//! `ipcRenderer`).
//!
//! - `options`: [`RendererOptions`];
//! - `connect`: connecting over each transport (the handshake);
//! - `end`: the renderer's end of its connection (the way to main and back);
//! - `outbox`: frames to main, written by whichever task gets there first;
//! - `pending`: calls waiting for replies, with their deadlines;
//! - `remote` and `local`: one call across a connection, or in process;
//! - `call`: the call futures ([`Call`], [`TryCall`]);
//! - `events`: event subscriptions ([`EventStream`]);
//! - `requests`: main's requests to this renderer, and their handlers.
//!
//! The renderer never names main: in process it reaches main's registry only through the
//! transport layer's `LocalRoute`.

mod call;
mod connect;
mod end;
mod events;
mod local;
mod options;
mod outbox;
mod pending;
mod remote;
mod requests;

pub use call::{Call, TryCall};
pub use events::{EventOnce, EventStream};
pub use options::RendererOptions;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::caller::RendererId;
use crate::channel::{EventChannel, InvokeChannel, SendChannel};
use crate::error::{IpcError, RegistryError};
use crate::limits::CLOSED_BY_MAIN;
use crate::port::ConnPorts;
use crate::transport::in_process::{LocalRoute, RendererQueues};
use crate::transport::mailbox::Mail;
use crate::transport::message::{Failure, ToMain, ToRenderer};
use crate::util::deadline::Deadlines;
use crate::util::lock;
use crate::wire::Payload;
use end::{FromMain, PostError, RendererEnd, ToMainQueue};
use pending::PendingCalls;

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
    contracts: ContractChecks,
    /// The runtime the connection's tasks run on, where blocking calls run theirs.
    runtime: tokio::runtime::Handle,
}

/// Main's contracts as its hello gave them, and the namespaces declared with another hash.
struct ContractChecks {
    main: BTreeMap<String, String>,
    refused: Mutex<Vec<(String, IpcError)>>,
    /// Whether `refused` has anything (read without the lock on every call).
    any_refused: AtomicBool,
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
    subscribers: events::Subscribers,
    event_buffer: usize,
    /// Handlers of main's requests, and the requests running.
    requests: Arc<requests::RequestHandlers>,
    /// The connection's ports (frame connections).
    ports: Option<Arc<ConnPorts>>,
}

impl Renderer {
    /// An in-process renderer on its end of the queues, running its calls through `route`.
    pub(crate) fn start_in_process(
        id: RendererId,
        queues: RendererQueues,
        options: RendererOptions,
        route: LocalRoute,
    ) -> Renderer {
        let end = RendererEnd {
            outgoing: ToMainQueue::Messages(queues.outgoing),
            incoming: FromMain::Messages(queues.incoming),
            pending: Arc::new(PendingCalls::new()),
        };
        // In process, main runs the same build: its contracts are this renderer's.
        Renderer::start(id, end, options, Some(route), BTreeMap::new())
    }

    pub(crate) fn start(
        id: RendererId,
        end: RendererEnd,
        options: RendererOptions,
        route: Option<LocalRoute>,
        main_contracts: BTreeMap<String, String>,
    ) -> Renderer {
        let ports = match &end.incoming {
            FromMain::Frames(frames) => Some(frames.ports.clone()),
            FromMain::Messages(_) => None,
        };
        let shared = Arc::new(Shared {
            pending: end.pending,
            reason: OnceLock::new(),
            closed: CancellationToken::new(),
            subscribers: events::Subscribers::default(),
            event_buffer: options.event_buffer,
            events_seen: AtomicU64::new(0),
            event_progress: tokio::sync::Notify::new(),
            requests: Arc::default(),
            ports,
        });
        tokio::spawn(read_from_main(
            shared.clone(),
            end.incoming,
            end.outgoing.answers(),
        ));
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
                contracts: ContractChecks {
                    main: main_contracts,
                    refused: Mutex::new(Vec::new()),
                    any_refused: AtomicBool::new(false),
                },
                runtime: tokio::runtime::Handle::current(),
            }),
        }
    }

    /// Declares a contract this renderer calls (the generated `{Trait}Client::new` does it for
    /// its own): when main announced the same namespace with another hash, every invoke and
    /// send on that namespace fails from now on with [`IpcError::VersionMismatch`], before
    /// anything is sent. A renderer that also passes the contract to
    /// [`RendererOptions::contract`] is refused earlier, at the handshake.
    ///
    /// # Errors
    ///
    /// [`IpcError::VersionMismatch`] naming both hashes when main's differs.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Main, RendererOptions, channels};
    ///
    /// #[channels(namespace = "app")]
    /// pub trait App {
    ///     async fn ping(&self) -> u32;
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let renderer = main.connect_in_process(RendererOptions::new("window"));
    /// // In process main runs the same build: nothing to refuse.
    /// assert!(renderer.declare_contract(App::schema()).is_ok());
    /// # }
    /// ```
    pub fn declare_contract(&self, schema: &ipc_schema::Service) -> Result<(), IpcError> {
        let (namespace, hash) = (&schema.namespace, &schema.hash);
        let checks = &self.inner.contracts;
        let Some(theirs) = checks.main.get(namespace) else {
            // Main does not serve it (its calls get `no_handler`), or main did not say.
            return Ok(());
        };
        if theirs == hash {
            return Ok(());
        }
        let error = IpcError::VersionMismatch {
            ours: format!("contract `{namespace}` {hash}"),
            theirs: format!("contract `{namespace}` {theirs}"),
        };
        let mut refused = lock(&checks.refused);
        if !refused.iter().any(|(refused, _)| refused == namespace) {
            refused.push((namespace.to_string(), error.clone()));
        }
        checks.any_refused.store(true, Ordering::Release);
        Err(error)
    }

    /// The refusal of `channel`'s contract, if [`Renderer::declare_contract`] found one.
    pub(crate) fn contract_refusal(&self, channel: &str) -> Option<IpcError> {
        let checks = &self.inner.contracts;
        if !checks.any_refused.load(Ordering::Acquire) {
            return None;
        }
        let namespace = channel
            .split_once(':')
            .map_or(channel, |(namespace, _)| namespace);
        lock(&checks.refused)
            .iter()
            .find(|(refused, _)| refused == namespace)
            .map(|(_, error)| error.clone())
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
        if let Some(refused) = self.contract_refusal(channel.name()) {
            return Err(refused);
        }
        // In process the listeners are entered here, in the caller's task: the send then comes
        // before whatever the renderer does next, invokes included.
        if let Some((route, _)) = &self.inner.route {
            if route.closer.is_closed() {
                return Err(self.closed_by_main());
            }
            let channel = Cow::Borrowed(channel.name());
            return route.connection.send(channel, Payload::shared(args));
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

    /// Subscribes to an event channel (Electron's `ipcRenderer.on`). The stream yields each
    /// event, or [`EventError::Lagged`](crate::EventError::Lagged) in the place of events it
    /// missed; it ends when the connection closes; dropping it unsubscribes.
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
        let shared = &self.inner.shared;
        EventStream::new(
            &shared.subscribers,
            channel.name(),
            shared.event_buffer,
            map,
        )
    }

    /// The next event of `channel` from now on (Electron's `ipcRenderer.once`): subscribes now,
    /// resolves with the first event and unsubscribes.
    ///
    /// # Errors
    ///
    /// [`EventError::Closed`](crate::EventError::Closed) when the connection closes first;
    /// `Lagged` when main dropped events of the channel for this renderer before the first one
    /// came.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{EventChannel, Main, RendererOptions, Target};
    ///
    /// const READY: EventChannel<(String,)> = EventChannel::new("app:ready");
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let renderer = main.connect_in_process(RendererOptions::new("window"));
    /// let ready = renderer.once(READY);
    /// main.emit(READY, Target::All, ("v1".to_string(),));
    /// assert_eq!(ready.await.unwrap(), ("v1".to_string(),));
    /// assert_eq!(renderer.subscription_count(READY.name()), 0);
    /// # }
    /// ```
    pub fn once<A>(&self, channel: EventChannel<A>) -> EventOnce<A>
    where
        A: DeserializeOwned + Clone + Send + 'static,
    {
        self.once_with(channel, Ok)
    }

    /// As [`Renderer::once`], mapping the event's arguments (generated clients unwrap
    /// one-argument tuples).
    #[doc(hidden)]
    pub fn once_with<A, T>(
        &self,
        channel: EventChannel<A>,
        map: fn(A) -> Result<T, String>,
    ) -> EventOnce<T>
    where
        A: DeserializeOwned + Clone + Send + 'static,
    {
        let shared = self.inner.shared.clone();
        EventOnce::new(
            self.subscribe_with(channel, map),
            Box::new(move || shared.reason.get().cloned().unwrap_or_default()),
        )
    }

    /// How many live subscriptions `channel` has in this renderer.
    pub fn subscription_count(&self, channel: &str) -> usize {
        self.inner.shared.subscribers.count(channel)
    }

    /// Ends every subscription of `channel` in this renderer (Electron's
    /// `ipcRenderer.removeAllListeners(channel)`): their streams end after the events they hold.
    /// Returns how many there were.
    pub fn remove_all_subscriptions(&self, channel: &str) -> usize {
        self.inner.shared.subscribers.remove_all(channel)
    }

    /// Whether the connection to main has closed.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.reason.get().is_some()
    }

    /// Handles main's requests on `channel` (a `#[request]` method; the generated
    /// `{Trait}::handle_requests` registers a whole contract's). The handler gets the arguments
    /// and returns the answer or the application's error; main's deadline applies, main may
    /// cancel it (the future is dropped), and a panic fails only that request.
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] when the channel has a handler.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{InvokeChannel, Main, Never, RendererOptions};
    ///
    /// const ASK: InvokeChannel<(u32,), u32, Never> = InvokeChannel::new("app:double");
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let renderer = main.connect_in_process(RendererOptions::new("window"));
    /// renderer.handle_request(ASK, |(n,): (u32,)| async move { Ok(n * 2) }).unwrap();
    /// assert_eq!(main.request(renderer.id(), ASK, (21,)).await, Ok(42));
    /// # }
    /// ```
    pub fn handle_request<A, T, E, F, Fut>(
        &self,
        channel: InvokeChannel<A, T, E>,
        handler: F,
    ) -> Result<(), RegistryError>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, E>> + Send + 'static,
    {
        self.inner.shared.requests.add(channel.name(), handler)
    }

    /// Stops handling main's requests on `channel`: later ones fail with
    /// [`IpcError::NoHandler`]. Returns whether there was a handler.
    pub fn remove_request_handler(&self, channel: &str) -> bool {
        self.inner.shared.requests.remove(channel)
    }

    /// How many ports (port ends and streams) are open on this connection to main; always 0 in
    /// process, where ends move as values.
    pub fn open_ports(&self) -> usize {
        self.inner
            .shared
            .ports
            .as_ref()
            .map_or(0, |ports| ports.open_count())
    }

    /// Waits until the connection to main closes and returns why.
    pub async fn closed(&self) -> String {
        let shared = &self.inner.shared;
        shared.closed.cancelled().await;
        shared.reason.get().cloned().unwrap_or_default()
    }

    /// The error for an in-process call cut off because main closed the connection: the reason
    /// main gave, without waiting for the reader to get to main's goodbye.
    fn closed_by_main(&self) -> IpcError {
        let recorded = self.inner.shared.reason.get().cloned();
        let said = match &self.inner.route {
            Some((route, _)) => route.closer.reason().to_string(),
            None => CLOSED_BY_MAIN.to_string(),
        };
        IpcError::disconnected(recorded.unwrap_or_else(|| goodbye_reason(&said)))
    }

    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.inner.runtime
    }

    pub(crate) fn disconnected_error(&self) -> IpcError {
        let reason = self.inner.shared.reason.get().cloned();
        IpcError::disconnected(reason.unwrap_or_else(|| "main is gone".into()))
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

/// Ends the connection for the handles however the reader task ends (a panic included): the
/// reason is set, every pending call fails, every event stream ends.
struct ReaderExit {
    shared: Arc<Shared>,
    reason: Option<String>,
}

impl Drop for ReaderExit {
    fn drop(&mut self) {
        let reason = self
            .reason
            .take()
            .unwrap_or_else(|| "the renderer's reader task failed".to_string());
        let shared = &self.shared;
        // The reason first: a call that sees the connection closed (or its reply slot dropped,
        // just below) reports it.
        let _ = shared.reason.set(reason);
        shared.closed.cancel();
        shared.event_progress.notify_waiters();
        // Dropping the reply slots fails every pending call with `Disconnected`; closing the
        // subscriptions ends every event stream.
        shared.pending.close();
        shared.subscribers.close();
        shared.requests.close();
        if let Some(ports) = &shared.ports {
            ports.close_all(shared.reason.get().map_or("disconnected", String::as_str));
        }
    }
}

async fn read_from_main(shared: Arc<Shared>, mut incoming: FromMain, answers: end::Answers) {
    let mut exit = ReaderExit {
        shared: shared.clone(),
        reason: None,
    };
    let mut reason = String::from("main closed the connection");
    while let Some(incoming) = incoming.next().await {
        let mail = match incoming {
            end::Incoming::Mail(mail) => mail,
            end::Incoming::Answer(answer) => {
                // Best effort: with the way to main full, main is not reading anyway.
                if let Err(PostError::Full) = answers.try_post(answer) {
                    tracing::warn!("could not answer main: the way to main is full");
                }
                continue;
            }
        };
        let message = match mail {
            Mail::Message(message) => message,
            Mail::Lag(missed) => {
                for missed in missed {
                    shared
                        .subscribers
                        .deliver_gap(&missed.channel, missed.count);
                }
                continue;
            }
            Mail::CloseWindow { .. } => continue,
        };
        match message {
            ToRenderer::Reply { id, result, .. } => shared.pending.complete(id, result),
            ToRenderer::Event {
                channel, payload, ..
            } => {
                shared.subscribers.deliver(&channel, payload);
                shared.events_seen.fetch_add(1, Ordering::SeqCst);
                shared.event_progress.notify_waiters();
            }
            ToRenderer::Lag {
                channel, missed, ..
            } => shared.subscribers.deliver_gap(&channel, missed),
            ToRenderer::Notice {
                id: Some(id),
                error,
            } => shared.pending.complete(id, Err(Failure::Ipc(error))),
            ToRenderer::Notice { id: None, error } => {
                tracing::warn!(%error, "main reported an error");
            }
            // Main pings only frame connections, whose reader answers; pongs need nothing.
            ToRenderer::Ping { .. } | ToRenderer::Pong { .. } => {}
            ToRenderer::Invoke {
                id,
                channel,
                args,
                timeout,
                ..
            } => shared
                .requests
                .start(id, channel, args, timeout, answers.clone()),
            ToRenderer::Cancel { id, .. } => shared.requests.cancel(id),
            // Port frames are handled where they are read (in process, ends move as values).
            ToRenderer::Port(_) => {}
            ToRenderer::Goodbye { reason: said, .. } => {
                reason = goodbye_reason(&said);
                break;
            }
        }
    }
    exit.reason = Some(reason);
}

/// Why the connection closed, when main said goodbye with `said`.
fn goodbye_reason(said: &str) -> String {
    format!("main closed the connection: {said}")
}
