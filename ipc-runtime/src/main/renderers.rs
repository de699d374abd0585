//! The renderers connected to main: registering a connection (and the windows behind a bridge),
//! looking them up, disconnecting them, and emitting events to them.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::authorize::{Use, authorize};
use super::connection::{self, Connection, MainEnd};
use super::lifecycle::RendererEvent;
use super::local::LocalPeer;
use super::requests::{PendingRequests, RequestRoute};
use super::sends::SendRunner;
use super::target::Target;
use super::{Main, PeerIdentity};
use crate::access::{Grant, GrantCell};
use crate::caller::{Caller, CallerInner, Peer, RendererId};
use crate::channel::EventChannel;
use crate::limits::CLOSED_BY_MAIN;
use crate::port::ConnPorts;
use crate::transport::in_process::LocalRoute;
use crate::transport::mailbox::{Delivery, Mail, Mailbox};
use crate::transport::message::ToRenderer;
use crate::util::closer::Closer;
use crate::wire::{FrameBytes, Payload, SenderInfo};

/// What main does when an event does not fit in a renderer's queue (the renderer is not reading
/// fast enough). Main never waits for a slow renderer: an `emit` must not stall on one.
///
/// # Examples
///
/// ```
/// use ipc_runtime::{EventOverflow, Main};
///
/// let main = Main::builder().event_overflow(EventOverflow::Disconnect).build();
/// # let _ = main;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventOverflow {
    /// Drop the event for that renderer and tell it how many it missed: its event stream yields
    /// [`EventError::Lagged`](crate::EventError::Lagged) in their place (the default).
    #[default]
    Notify,
    /// Disconnect the renderer, with the reason "did not keep up with events": for renderers
    /// whose state would be wrong after a missed event.
    Disconnect,
}

pub(crate) struct RendererEntry {
    /// Events queued to this connection (an in-process call waits for them before it returns,
    /// so events a handler emits arrive before its result).
    events_queued: Arc<AtomicU64>,
    caller: Caller,
    outgoing: Arc<Mailbox>,
    closer: Arc<Closer>,
    overflow: EventOverflow,
    /// For a window behind a bridge: its id on the bridge (events to it carry `to`).
    route: Option<u64>,
    /// For a window behind a bridge: the bridge connection it belongs to.
    parent: Option<RendererId>,
    /// Main's requests in flight on the connection (a window's are its bridge's).
    requests: Arc<PendingRequests>,
    /// The connection's ports (a window's are its bridge's; none in process).
    ports: Option<Arc<ConnPorts>>,
    /// A bridge's own connection: it speaks for its windows and answers no requests itself.
    bridge: bool,
}

impl Main {
    /// Emits an event to the renderers `target` selects (Electron's `webContents.send`). Returns
    /// how many renderers it was queued for.
    ///
    /// Delivery never waits: a renderer whose queue is full (it stopped reading) misses the
    /// event, and is told so (a lag notice in its event stream) or disconnected, as its
    /// [`EventOverflow`] policy says; the others still get it.
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
    /// assert_eq!(ticks.next().await, Some(Ok((7,))));
    /// # }
    /// ```
    pub fn emit<A>(&self, channel: EventChannel<A>, target: impl Into<Target>, args: A) -> usize
    where
        A: Serialize + Send + Sync + 'static,
    {
        let target = target.into();
        // An event for one renderer may carry port ends and streams (encoded for it alone).
        let payload = match target {
            Target::Renderer(_) => Payload::shared_single(args),
            _ => Payload::shared(args),
        };
        let mut delivered = 0;
        let mut too_slow = Vec::new();
        let rule = self.inner.read_registry().rule(channel.name());
        {
            let renderers = self.lock_renderers();
            let allowed = |entry: &RendererEntry| {
                authorize(
                    &entry.caller,
                    channel.name(),
                    rule.as_deref(),
                    Use::Event,
                    entry.bridge,
                )
                .is_ok()
            };
            // A bridge fans an event without `to` out to every window it has, including windows
            // main has not heard from yet (they have their bridge's grant). A window main knows
            // whose own verdict differs from its bridge's is excepted from the fan-out, or
            // addressed alone.
            let mut excepted: HashMap<RendererId, Vec<u64>> = HashMap::new();
            let mut alone: HashSet<RendererId> = HashSet::new();
            let mut verdicts: HashMap<RendererId, bool> = HashMap::new();
            for (id, entry) in renderers.iter() {
                let (Some(parent), Some(window)) = (entry.parent, entry.route) else {
                    continue;
                };
                let Some(bridge) = renderers.get(&parent) else {
                    continue;
                };
                if !target.matches(&bridge.caller) {
                    continue;
                }
                let fanned_out = *verdicts.entry(parent).or_insert_with(|| allowed(bridge));
                match (fanned_out, allowed(entry)) {
                    (true, false) => excepted.entry(parent).or_default().push(window),
                    (false, true) => {
                        alone.insert(*id);
                    }
                    _ => {}
                }
            }
            for (id, entry) in renderers.iter() {
                // `All` reaches each connection once: a bridge fans an event without `to` out
                // to every window itself. Other targets address windows one by one.
                let selected = match &target {
                    Target::All => entry.parent.is_none() || alone.contains(id),
                    _ => target.matches(&entry.caller) || alone.contains(id),
                };
                if !selected || !verdicts.get(id).copied().unwrap_or_else(|| allowed(entry)) {
                    continue;
                }
                let Some(payload) = payload.try_clone() else {
                    continue;
                };
                let event = ToRenderer::Event {
                    channel: Cow::Borrowed(channel.name()),
                    payload,
                    to: entry.route,
                    except: excepted.remove(id).map(Vec::into_boxed_slice),
                };
                match entry.outgoing.push_event(event) {
                    Delivery::Queued => {
                        entry.events_queued.fetch_add(1, Ordering::SeqCst);
                        delivered += 1;
                    }
                    Delivery::Lagged if entry.overflow == EventOverflow::Disconnect => {
                        // Closing already (an earlier emit found it too slow): once is enough.
                        if !entry.closer.is_closed() {
                            too_slow.push(entry.caller.renderer());
                        }
                    }
                    Delivery::Lagged => {
                        tracing::debug!(renderer = %entry.caller.renderer(), channel = channel.name(), "event dropped: the renderer is not keeping up; it gets a lag notice");
                    }
                    Delivery::Closed => {}
                }
            }
        }
        for id in too_slow {
            let reason = format!(
                "did not keep up with events (`{}` found its queue of {} messages full)",
                channel.name(),
                self.inner.config.queue_capacity
            );
            tracing::warn!(renderer = %id, %reason, "disconnecting a slow renderer");
            self.close_renderer(id, reason);
        }
        delivered
    }

    /// Sets what main does when `renderer` does not keep up with events. Returns whether it is
    /// connected.
    pub fn set_event_overflow(&self, renderer: RendererId, policy: EventOverflow) -> bool {
        match self.lock_renderers().get_mut(&renderer) {
            Some(entry) => {
                entry.overflow = policy;
                true
            }
            None => false,
        }
    }

    pub(crate) fn next_renderer_id(&self) -> RendererId {
        RendererId(self.inner.next_renderer.fetch_add(1, Ordering::Relaxed))
    }

    /// Registers a connection (from now on it is a target of `emit`) and starts serving it,
    /// writing `hello` first. Returns the route an in-process renderer runs its calls through.
    pub(crate) fn register_connection(
        &self,
        id: RendererId,
        end: MainEnd,
        identity: PeerIdentity,
        hello: Option<FrameBytes>,
    ) -> LocalRoute {
        let config = &self.inner.config;
        let caller = Caller::new(
            id,
            CallerInner {
                label: identity.label.into(),
                origin: identity.origin.map(Into::into),
                frame_url: identity.frame_url.map(Into::into),
                peer: Arc::new(identity.peer),
                grant: GrantCell::new(Grant::all()),
            },
        );
        if let Some(grant) = self.decide_grant(&caller) {
            caller.grant_cell().set(grant);
        }
        let closer = Arc::new(Closer::child_of(&self.inner.shutdown, CLOSED_BY_MAIN));
        let events_queued = Arc::new(AtomicU64::new(0));
        let slots = Arc::new(tokio::sync::Semaphore::new(config.max_in_flight));
        let stop_listeners = CancellationToken::new();
        let requests = Arc::new(PendingRequests::default());
        let sends = SendRunner::new(config.max_sends_running, stop_listeners.clone());
        let route = LocalRoute {
            connection: Arc::new(LocalPeer {
                main: self.clone(),
                caller: caller.clone(),
                sends: sends.clone(),
            }),
            slots: slots.clone(),
            max_in_flight: config.max_in_flight,
            closer: closer.clone(),
            events_queued: events_queued.clone(),
        };
        self.lock_renderers().insert(
            id,
            RendererEntry {
                events_queued,
                caller: caller.clone(),
                outgoing: end.outgoing.clone(),
                closer: closer.clone(),
                overflow: config.event_overflow,
                route: None,
                parent: None,
                requests: requests.clone(),
                ports: end.ports.clone(),
                bridge: identity.bridge,
            },
        );
        self.announce(RendererEvent::Connected(caller.clone()));
        tokio::spawn(connection::serve(Connection {
            main: self.clone(),
            caller,
            end,
            closer,
            bridge: identity.bridge,
            slots,
            max_in_flight: config.max_in_flight,
            sends,
            stop_listeners,
            hello,
            requests,
        }));
        route
    }

    /// Registers (or updates) a window behind a bridge connection as a renderer of its own. A
    /// window seen before keeps its id, and its grant unless its origin changed.
    pub(crate) fn register_window(
        &self,
        bridge: &Caller,
        sender: &SenderInfo,
        existing: Option<&Caller>,
    ) -> Caller {
        let id = existing.map_or_else(|| self.next_renderer_id(), Caller::renderer);
        let origin: Option<Box<str>> = sender.origin.as_deref().map(Into::into);
        // A window keeps its grant while it shows pages of one origin; a page of another origin
        // is another principal and starts afresh (from its bridge's, or what main decides).
        let kept = existing
            .filter(|existing| existing.origin() == origin.as_deref())
            .map(|existing| existing.grant_cell().clone());
        let fresh = kept.is_none();
        let caller = Caller::new(
            id,
            CallerInner {
                label: bridge.label().into(),
                origin,
                frame_url: sender.url.as_deref().map(Into::into),
                peer: Arc::new(Peer::BridgeWindow {
                    bridge: bridge.inner.peer.clone(),
                    window: sender.id,
                    main_frame: sender.main_frame,
                }),
                grant: kept
                    .unwrap_or_else(|| GrantCell::new(Grant::clone(&bridge.grant_cell().get()))),
            },
        );
        if fresh {
            if let Some(grant) = self.decide_grant(&caller) {
                caller.grant_cell().set(grant);
            }
        }
        let mut renderers = self.lock_renderers();
        if let Some(known) = renderers.get_mut(&id) {
            // A window seen before (a navigation, or a call from another of its frames) keeps
            // its entry: its queue, close state and overflow setting.
            known.caller = caller.clone();
            return caller;
        }
        let Some(parent) = renderers.get(&bridge.renderer()) else {
            // The bridge is going away: its windows are not registered any more.
            return caller;
        };
        let entry = RendererEntry {
            // Windows share their bridge's mailbox but never take in-process replies.
            events_queued: Arc::new(AtomicU64::new(0)),
            caller: caller.clone(),
            outgoing: parent.outgoing.clone(),
            closer: Arc::new(Closer::new(CLOSED_BY_MAIN)),
            overflow: parent.overflow,
            route: Some(sender.id),
            parent: Some(bridge.renderer()),
            requests: parent.requests.clone(),
            ports: parent.ports.clone(),
            bridge: false,
        };
        renderers.insert(id, entry);
        drop(renderers);
        self.announce(RendererEvent::Connected(caller.clone()));
        caller
    }

    /// What [`MainBuilder::initial_grant`](crate::MainBuilder::initial_grant) decides for a new
    /// renderer (`None`: the default). A panic in it is the default too, logged.
    fn decide_grant(&self, caller: &Caller) -> Option<Grant> {
        let decide = self.inner.initial_grant.as_ref()?;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (decide.0)(caller))) {
            Ok(grant) => grant,
            Err(panic) => {
                // The safe reading of a decision that failed is the narrowest grant.
                tracing::error!(renderer = %caller.renderer(), panic = %crate::util::panic_message(&*panic), "initial_grant panicked: the renderer gets Grant::none()");
                Some(Grant::none())
            }
        }
    }

    /// Replaces what `renderer` may use (see [`Grant`]). The change applies to every call, send
    /// and event after this returns, also on a renderer that is connected already; calls running
    /// now finish. A window behind a bridge has a grant of its own (it started as a copy of its
    /// bridge's), which it keeps while its pages are of one origin: a page of another origin gets
    /// a fresh one (the initial grant again). Returns whether `renderer` is connected.
    ///
    /// Who may use what is decided on main, per call, before anything is decoded:
    ///
    /// 1. the renderer's grant must allow the channel's contract (by namespace; a channel no
    ///    contract declares counts as the namespace before its `:`);
    /// 2. where the contract declares `#[policy(...)]` (on the trait, on the method, or both),
    ///    the caller must meet one rule of each level, with capabilities taken from its grant;
    /// 3. where neither declares one, every renderer an endpoint admitted may call, except a
    ///    window's subframe (an iframe is often another site's page).
    ///
    /// A refused call fails with [`IpcError::Forbidden`](crate::IpcError::Forbidden) naming the
    /// rule, and its handler never runs; a refused send is dropped with the same error as a
    /// notice to the renderer; events are only queued for renderers allowed to receive them.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Grant, InvokeChannel, IpcError, Main, Never, RendererOptions};
    ///
    /// const PING: InvokeChannel<ipc_runtime::NoArgs, String, Never> = InvokeChannel::new("app:ping");
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// main.handle(PING, |_, _| async { Ok("pong".to_string()) }).unwrap();
    /// let renderer = main.connect_in_process(RendererOptions::new("guest"));
    /// assert!(renderer.invoke(PING, ipc_runtime::NoArgs).await.is_ok());
    ///
    /// main.set_grant(renderer.id(), Grant::contracts(["files"]));
    /// let refused = renderer.invoke(PING, ipc_runtime::NoArgs).await.unwrap_err();
    /// assert!(matches!(refused.ipc(), Some(IpcError::Forbidden { .. })));
    /// # }
    /// ```
    pub fn set_grant(&self, renderer: RendererId, grant: Grant) -> bool {
        self.with_grant(renderer, |cell| cell.set(grant))
    }

    /// Adds the capability `name` to `renderer`'s grant. Returns whether it is connected.
    pub fn grant(&self, renderer: RendererId, name: impl Into<String>) -> bool {
        let name = name.into();
        self.with_grant(renderer, |cell| {
            cell.update(|grant| grant.with_capability(name))
        })
    }

    /// Takes the capability `name` from `renderer`'s grant (calls already running finish).
    /// Returns whether it is connected.
    pub fn revoke(&self, renderer: RendererId, name: &str) -> bool {
        self.with_grant(renderer, |cell| {
            cell.update(|grant| grant.without_capability(name))
        })
    }

    fn with_grant(&self, renderer: RendererId, change: impl FnOnce(&GrantCell)) -> bool {
        let cell = match self.lock_renderers().get(&renderer) {
            Some(entry) => entry.caller.grant_cell().clone(),
            None => return false,
        };
        change(&cell);
        true
    }

    /// How many ports (port ends and streams) are open on `renderer`'s connection (`None` when
    /// it is not connected; 0 in process, where ends move as values).
    pub fn open_ports(&self, renderer: RendererId) -> Option<usize> {
        let renderers = self.lock_renderers();
        let entry = renderers.get(&renderer)?;
        Some(entry.ports.as_ref().map_or(0, |ports| ports.open_count()))
    }

    /// How to reach `renderer` with a request, if it is connected.
    pub(crate) fn request_route(&self, renderer: RendererId) -> Option<RequestRoute> {
        let renderers = self.lock_renderers();
        let entry = renderers.get(&renderer)?;
        Some(RequestRoute {
            bridge: entry.bridge,
            requests: entry.requests.clone(),
            outgoing: entry.outgoing.clone(),
            to: entry.route,
        })
    }

    /// Forgets a renderer (and, for a bridge, every window behind it), telling watchers why.
    pub(crate) fn forget_renderer(&self, id: RendererId, reason: &str) {
        let gone: Vec<Caller> = {
            let mut renderers = self.lock_renderers();
            let mut gone = Vec::new();
            renderers.retain(|_, entry| {
                let behind = entry.parent == Some(id);
                if behind {
                    gone.push(entry.caller.clone());
                }
                !behind
            });
            gone.extend(renderers.remove(&id).map(|entry| entry.caller));
            gone
        };
        for caller in gone {
            self.announce(RendererEvent::Disconnected {
                caller,
                reason: reason.to_string(),
            });
        }
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

    /// Disconnects one renderer: its running calls and send listeners are cancelled, its pending
    /// calls fail with [`IpcError::Disconnected`](crate::IpcError::Disconnected), and it is told
    /// why ("closed by main"). A window behind a bridge is disconnected alone: the bridge is told
    /// to stop serving it. Returns whether it was connected.
    pub fn disconnect(&self, id: RendererId) -> bool {
        self.close_renderer(id, CLOSED_BY_MAIN.to_string())
    }

    /// Closes one renderer's connection (or window) with `reason`.
    fn close_renderer(&self, id: RendererId, reason: String) -> bool {
        let mut renderers = self.lock_renderers();
        let Some(entry) = renderers.get(&id) else {
            return false;
        };
        match (entry.parent, entry.route) {
            (Some(_), Some(window)) => {
                // The bridge's connection task cancels the window's calls, tells the bridge and
                // refuses the window's later frames.
                let mailbox = entry.outgoing.clone();
                let caller = entry.caller.clone();
                renderers.remove(&id);
                drop(renderers);
                mailbox.push_control(Mail::CloseWindow {
                    window,
                    reason: reason.clone(),
                });
                self.announce(RendererEvent::Disconnected { caller, reason });
            }
            _ => entry.closer.close(reason),
        }
        true
    }

    pub(crate) fn lock_renderers(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<RendererId, RendererEntry>> {
        crate::util::lock(&self.inner.renderers)
    }
}
