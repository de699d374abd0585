//! [`MainBuilder`]: the limits and defaults of a [`Main`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::registry::Registry;
use super::{Main, MainInner};
use crate::limits::{
    DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_FRAME, DEFAULT_MAX_IN_FLIGHT, DEFAULT_QUEUE_CAPACITY,
    DEFAULT_SEND_QUEUE_CAPACITY,
};

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
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            send_queue_capacity: DEFAULT_SEND_QUEUE_CAPACITY,
            max_frame_size: DEFAULT_MAX_FRAME,
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
    /// [`IpcError::TooManyInFlight`](crate::IpcError::TooManyInFlight). Default 256.
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
