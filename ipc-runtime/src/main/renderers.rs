//! The renderers connected to main: registering a connection (and the windows behind a bridge),
//! looking them up, disconnecting them, and emitting events to them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::connection::{self, MainEnd};
use super::target::Target;
use super::{Main, PeerIdentity};
use crate::caller::{Caller, RendererId};
use crate::channel::EventChannel;
use crate::transport::in_process::LocalRoute;
use crate::transport::message::ToRenderer;
use crate::wire::{Payload, SenderInfo};

pub(crate) struct RendererEntry {
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

impl Main {
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

    pub(crate) fn next_renderer_id(&self) -> RendererId {
        RendererId(self.inner.next_renderer.fetch_add(1, Ordering::Relaxed))
    }

    /// Registers a connection and starts serving it. Returns the route an in-process renderer
    /// runs its calls through.
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
            router: self.inner.clone(),
            caller: caller.clone(),
            slots: slots.clone(),
            max_in_flight: self.inner.config.max_in_flight,
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
        tokio::spawn(connection::serve(
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
    /// [`IpcError::Disconnected`](crate::IpcError::Disconnected). Returns whether it was connected.
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

    fn lock_renderers(&self) -> std::sync::MutexGuard<'_, HashMap<RendererId, RendererEntry>> {
        self.inner
            .renderers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
