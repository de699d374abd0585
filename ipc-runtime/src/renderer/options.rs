//! [`RendererOptions`]: how a renderer identifies itself, and its defaults.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::limits::{
    DEFAULT_CALL_TIMEOUT, DEFAULT_EVENT_BUFFER, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_FRAME,
    DEFAULT_MAX_MESSAGE, DEFAULT_MAX_PORTS, DEFAULT_PORT_WINDOW, DEFAULT_QUEUE_CAPACITY,
};
use crate::transport::frames::Limits;
use crate::wire::Codec;

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
    pub(crate) max_message_size: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) contracts: BTreeMap<String, String>,
    pub(crate) port_window: usize,
    pub(crate) max_ports: usize,
}

impl RendererOptions {
    /// Options with a label (shown to handlers as [`Caller::label`](crate::Caller::label)).
    pub fn new(label: impl Into<String>) -> Self {
        RendererOptions {
            label: Arc::from(label.into()),
            origin: None,
            frame_url: None,
            default_timeout: Some(DEFAULT_CALL_TIMEOUT),
            event_buffer: DEFAULT_EVENT_BUFFER,
            codec: Codec::Binary,
            max_frame_size: DEFAULT_MAX_FRAME,
            max_message_size: DEFAULT_MAX_MESSAGE,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            contracts: BTreeMap::new(),
            port_window: DEFAULT_PORT_WINDOW,
            max_ports: DEFAULT_MAX_PORTS,
        }
    }

    /// Declares a contract this renderer was built with (pass `Todos::schema()`). Main refuses
    /// the connection with [`IpcError::VersionMismatch`](crate::IpcError::VersionMismatch) when it knows the same namespace with a
    /// different hash.
    pub fn contract(mut self, schema: &ipc_schema::Service) -> Self {
        self.contracts
            .insert(schema.namespace.clone(), schema.hash.clone());
        self
    }

    /// The codec across processes (default [`Codec::Binary`]; the generated JavaScript peers use
    /// [`Codec::MessagePack`]).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// The largest frame this renderer accepts (default 4 MiB). Longer messages travel in
    /// frames of this size (see [`RendererOptions::max_message_size`]).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes.max(64);
        self
    }

    /// The largest message this renderer accepts from main (default 64 MiB, at most 4 GiB);
    /// messages longer than a frame travel in chunks. Main answers a call whose result is longer
    /// with [`IpcError::TooLarge`](crate::IpcError::TooLarge).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes.clamp(64, u32::MAX as usize);
        self
    }

    /// The frames and messages this renderer accepts.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_frame: self.max_frame_size,
            max_message: self.max_message_size,
        }
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

    /// How many messages main may send on a port (or a stream) before this renderer takes some
    /// (default 256); see [`MainBuilder::port_window`](crate::MainBuilder::port_window).
    pub fn port_window(mut self, messages: usize) -> Self {
        self.port_window = messages.max(1);
        self
    }

    /// The most ports open at once on the connection (default 1024).
    pub fn max_ports(mut self, limit: usize) -> Self {
        self.max_ports = limit.max(1);
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

    /// Events buffered per subscription (default 256). A subscription this far behind misses the
    /// events that do not fit, and its stream yields
    /// [`EventError::Lagged`](crate::EventError::Lagged) with their count in their place.
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events.max(1);
        self
    }
}
