//! [`MainBuilder`]: the limits and defaults of a [`Main`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::EventOverflow;
use super::registry::Registry;
use super::{Main, MainInner};
use crate::access::Grant;
use crate::caller::Caller;
use crate::limits::{
    DEFAULT_FRAME_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_TIMEOUT, DEFAULT_MAX_FRAME, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_MESSAGE,
    DEFAULT_MAX_PARTIAL_BYTES, DEFAULT_MAX_PORTS, DEFAULT_MAX_SENDS_RUNNING, DEFAULT_PORT_WINDOW,
    DEFAULT_QUEUE_CAPACITY, default_max_connections,
};
use crate::transport::frames::Limits;
use crate::util::held::Held;
use crate::util::slots::Slots;

/// Limits and defaults of a [`Main`].
#[derive(Debug, Clone)]
pub(crate) struct MainConfig {
    pub(crate) max_in_flight: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) max_sends_running: usize,
    pub(crate) max_frame_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) event_overflow: EventOverflow,
    pub(crate) max_connections: usize,
    /// `None`: as many as `max_connections`.
    pub(crate) max_connections_per_endpoint: Option<usize>,
    pub(crate) frame_timeout: Option<Duration>,
    /// Silence before a ping, and how long to wait for a sign of life after it.
    pub(crate) heartbeat: Option<(Duration, Duration)>,
    pub(crate) max_partial_bytes: usize,
    pub(crate) port_window: usize,
    pub(crate) max_ports: usize,
}

impl MainConfig {
    /// The most connections one listener serves at once.
    pub(crate) fn max_connections_per_endpoint(&self) -> usize {
        self.max_connections_per_endpoint
            .unwrap_or(self.max_connections)
    }

    /// The frames and messages main accepts.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_frame: self.max_frame_size,
            max_message: self.max_message_size,
        }
    }
}

impl Default for MainConfig {
    fn default() -> Self {
        MainConfig {
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            max_sends_running: DEFAULT_MAX_SENDS_RUNNING,
            max_frame_size: DEFAULT_MAX_FRAME,
            max_message_size: DEFAULT_MAX_MESSAGE,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            event_overflow: EventOverflow::default(),
            max_connections: default_max_connections(),
            max_connections_per_endpoint: None,
            frame_timeout: Some(DEFAULT_FRAME_TIMEOUT),
            heartbeat: Some((DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_TIMEOUT)),
            max_partial_bytes: DEFAULT_MAX_PARTIAL_BYTES,
            port_window: DEFAULT_PORT_WINDOW,
            max_ports: DEFAULT_MAX_PORTS,
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
    initial_grant: Option<InitialGrant>,
}

/// What decides a new renderer's grant.
type DecideGrant = dyn Fn(&Caller) -> Option<Grant> + Send + Sync;

/// Decides the grant of each new renderer ([`MainBuilder::initial_grant`]).
#[derive(Clone)]
pub(crate) struct InitialGrant(pub(crate) Arc<DecideGrant>);

impl std::fmt::Debug for InitialGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitialGrant(..)")
    }
}

impl MainBuilder {
    /// The most calls one renderer may have in flight; past it, calls fail at once with
    /// [`IpcError::TooManyInFlight`](crate::IpcError::TooManyInFlight). Default 256.
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.config.max_in_flight = limit.max(1);
        self
    }

    /// Messages main queues for one renderer (replies, events). Default 1024. An event that
    /// finds the queue full is dropped for that renderer, which is told how many it missed (a
    /// lag notice) or disconnected, as [`MainBuilder::event_overflow`] says.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.config.queue_capacity = capacity.max(1);
        self
    }

    /// What main does with a renderer that does not keep up with events (default
    /// [`EventOverflow::Notify`]); [`Main::set_event_overflow`] changes it per renderer.
    pub fn event_overflow(mut self, policy: EventOverflow) -> Self {
        self.config.event_overflow = policy;
        self
    }

    /// Sends per renderer whose listeners may still be running (default 256). At the bound, main
    /// stops reading from that renderer until one finishes (backpressure): what the renderer
    /// sent next must enter after it.
    pub fn max_sends_running(mut self, limit: usize) -> Self {
        self.config.max_sends_running = limit.max(1);
        self
    }

    /// The largest frame main accepts from a renderer across processes (default 4 MiB). A larger
    /// frame closes that connection with a stated reason (the stream cannot be resynchronized).
    /// Longer messages travel in frames of this size (see [`MainBuilder::max_message_size`]).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame_size = bytes.max(64);
        self
    }

    /// The largest message main accepts from a renderer across processes (default 64 MiB, at
    /// most 4 GiB). Messages longer than a frame travel in chunks; a longer one is refused with
    /// [`IpcError::TooLarge`](crate::IpcError::TooLarge) and the connection goes on.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes.clamp(64, u32::MAX as usize);
        self
    }

    /// How long a connecting renderer has to say hello (default 5 s); a client that connects and
    /// says nothing is disconnected after it. A WebSocket's HTTP upgrade counts.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// The most connections main serves at once across processes, handshakes included (default:
    /// three quarters of the process's open-file limit, between 16 and 4096, so descriptors are
    /// left for everything else). One more is refused at once with
    /// [`IpcError::TooManyConnections`](crate::IpcError::TooManyConnections); the connected
    /// renderers are not affected.
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.config.max_connections = limit.max(1);
        self
    }

    /// The most connections one listener (`listen_unix`, `listen_websocket`) serves at once
    /// (default: as many as [`MainBuilder::max_connections`]).
    pub fn max_connections_per_endpoint(mut self, limit: usize) -> Self {
        self.config.max_connections_per_endpoint = Some(limit.max(1));
        self
    }

    /// How long a frame, or a chunked message, may take once its first byte came (default
    /// 30 s): a renderer that sends half a frame and stops is disconnected after it, and what
    /// main held for the frame is freed.
    pub fn frame_timeout(mut self, timeout: Duration) -> Self {
        self.config.frame_timeout = Some(timeout);
        self
    }

    /// Pings a renderer after `interval` of silence (default 30 s) and disconnects it when
    /// nothing at all comes within `timeout` after (default 10 s): dead peers and peers that
    /// never answer are found. A live renderer answers pings by itself, however quiet its
    /// application is.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.config.heartbeat = Some((interval, timeout));
        self
    }

    /// No pings: a renderer that says nothing is kept until its connection ends.
    pub fn no_heartbeat(mut self) -> Self {
        self.config.heartbeat = None;
        self
    }

    /// The most bytes main holds, over all connections, for frames and chunked messages not yet
    /// complete (default 256 MiB). A connection whose next large frame or chunked message would
    /// go over it is closed with [`IpcError::TooLarge`](crate::IpcError::TooLarge): a crowd of
    /// half-sent messages cannot exhaust main's memory.
    pub fn max_partial_bytes(mut self, bytes: usize) -> Self {
        self.config.max_partial_bytes = bytes.max(64);
        self
    }

    /// How many messages a renderer may send on a port (or a stream) before main takes some
    /// (default 256): main queues at most this many per port, and grants more as the receiving
    /// end reads. Larger windows keep fast streams of small items moving; each costs memory
    /// per open port.
    pub fn port_window(mut self, messages: usize) -> Self {
        self.config.port_window = messages.max(1);
        self
    }

    /// The most ports (port ends and streams) open at once on one connection (default 1024).
    /// A message that would open more is refused with
    /// [`IpcError::TooManyPorts`](crate::IpcError::TooManyPorts).
    pub fn max_ports(mut self, limit: usize) -> Self {
        self.config.max_ports = limit.max(1);
        self
    }

    /// Decides what each new renderer may use, from what main vouches for about it: `decide` is
    /// called once per connection (and per window behind a bridge, when main first hears from
    /// it) before its first message is served, and returns its [`Grant`], or `None` for the
    /// default: [`Grant::all`] for a connection, a copy of its bridge's grant for a window.
    /// [`Main::set_grant`] changes a grant later.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Grant, Main, Peer};
    ///
    /// // Pages on the WebSocket endpoint get the `todos` contract only; native renderers run
    /// // as the same user get everything and the `admin` capability.
    /// let main = Main::builder()
    ///     .initial_grant(|caller| match caller.peer() {
    ///         Peer::WebSocket { .. } => Some(Grant::contracts(["todos"])),
    ///         Peer::Unix { uid, .. } if *uid == 1000 => Some(Grant::all().with_capability("admin")),
    ///         _ => None,
    ///     })
    ///     .build();
    /// # let _ = main;
    /// ```
    pub fn initial_grant(
        mut self,
        decide: impl Fn(&Caller) -> Option<Grant> + Send + Sync + 'static,
    ) -> Self {
        self.initial_grant = Some(InitialGrant(Arc::new(decide)));
        self
    }

    /// Builds the router.
    pub fn build(self) -> Main {
        Main {
            inner: Arc::new(MainInner {
                config: self.config.clone(),
                registry: RwLock::new(Registry::default()),
                renderers: Mutex::new(HashMap::new()),
                next_renderer: AtomicU64::new(1),
                next_listener: AtomicU64::new(1),
                shutdown: CancellationToken::new(),
                contracts: Mutex::new(BTreeMap::new()),
                watchers: Mutex::new(Vec::new()),
                held: Held::with_limit(self.config.max_partial_bytes),
                connections: Slots::new(self.config.max_connections),
                initial_grant: self.initial_grant,
            }),
        }
    }
}
