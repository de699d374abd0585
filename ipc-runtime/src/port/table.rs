//! One connection's ports (`docs/PROTOCOL.md` §7.1): the ids open on it, where each port's
//! incoming messages go, how its outgoing ones are sent, and what the connection answers to port
//! frames it cannot act on.
//!
//! Both sides have one table per frame connection (main's in its connection task, the renderer's
//! in its reader); they differ only in the parity of the ids they allocate and in how a frame
//! reaches the peer ([`PortWire`], which each side implements over its own outgoing queue).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::holder::Holder;
use super::inbox::{Closed, Inbox, Refused};
use super::remote::RemotePort;
use crate::error::IpcError;
use crate::transport::message::PortMessage;
use crate::util::lock;
use crate::util::peer_ids::PeerIds;
use crate::wire::payload::DecodeContext;
use crate::wire::{Codec, Frame, Outcome, Payload, WireError};

/// How one side's port frames reach the other side.
pub(crate) trait PortWire: Send + Sync {
    /// Queues a port frame of the connection of `ports`. Data frames are bounded by credits and
    /// credit and close frames by the ports open, so nothing here waits or is refused for room.
    fn post(&self, ports: &Arc<ConnPorts>, message: PortMessage);
}

/// Closed port ids remembered, so that late messages for them are told apart from messages for
/// ids that never existed.
const REMEMBERED: usize = 4096;

/// Which side allocates a port id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Even ids.
    Main,
    /// Odd ids.
    Renderer,
}

impl Side {
    fn owns(self, id: u64) -> bool {
        match self {
            Side::Main => id % 2 == 0,
            Side::Renderer => id % 2 == 1,
        }
    }
}

/// The peer's window when its hello announces none (`docs/PROTOCOL.md` §3).
const ABSENT_PORT_WINDOW: u64 = 16;
/// The largest peer window this side honours: more would only let the peer grow what this side
/// queues for it.
const MAX_PEER_WINDOW: u64 = 4096;

/// Port settings of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortLimits {
    /// Messages the peer may send on a port before this side grants more.
    pub(crate) own_window: u64,
    /// Messages this side may send on a port before the peer grants more.
    pub(crate) peer_window: u64,
    /// The most ports open at once.
    pub(crate) max_ports: usize,
}

impl PortLimits {
    /// This side's window and port limit, and the window the peer's hello announced (absent: the
    /// protocol's 16; above 4096: 4096).
    pub(crate) fn new(own_window: usize, announced: Option<u64>, max_ports: usize) -> PortLimits {
        PortLimits {
            own_window: own_window as u64,
            peer_window: announced
                .unwrap_or(ABSENT_PORT_WINDOW)
                .clamp(1, MAX_PEER_WINDOW),
            max_ports,
        }
    }
}

pub(crate) struct ConnPorts {
    wire: Box<dyn PortWire>,
    side: Side,
    limits: PortLimits,
    next_id: AtomicU64,
    entries: Mutex<Entries>,
    /// Who the ends handed over on this connection are held by (main's side names its renderer).
    holder: OnceLock<Arc<dyn Holder>>,
}

#[derive(Default)]
struct Entries {
    open: HashMap<u64, Entry, PeerIds>,
    /// The highest id the peer opened.
    peer_high: u64,
    /// Ids this side closed (late messages for them are dropped) and ids the peer closed (more
    /// messages for them are errors), the oldest forgotten first.
    closed_here: Remembered,
    closed_there: Remembered,
    /// The connection ended: nothing more opens.
    gone: Option<String>,
}

#[derive(Default)]
struct Remembered {
    set: HashSet<u64, PeerIds>,
    order: VecDeque<u64>,
}

impl Remembered {
    fn insert(&mut self, id: u64) {
        if self.set.insert(id) {
            self.order.push_back(id);
            if self.order.len() > REMEMBERED {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }

    fn contains(&self, id: u64) -> bool {
        self.set.contains(&id)
    }
}

struct Entry {
    /// Where the peer's messages go (`None`: a stream this side produces; its consumer sends
    /// nothing).
    inbox: Option<Arc<Inbox>>,
    remote: Arc<RemotePort>,
}

impl ConnPorts {
    pub(crate) fn new(side: Side, limits: PortLimits, wire: Box<dyn PortWire>) -> Arc<ConnPorts> {
        Arc::new(ConnPorts {
            wire,
            side,
            limits,
            next_id: AtomicU64::new(match side {
                Side::Main => 2,
                Side::Renderer => 1,
            }),
            entries: Mutex::new(Entries::default()),
            holder: OnceLock::new(),
        })
    }

    /// Names who holds the ends handed over on this connection from now on (main's side, once
    /// it knows its renderer: before anything is sent on the connection). A second call is
    /// ignored.
    pub(crate) fn set_holder(&self, holder: Arc<dyn Holder>) {
        let _ = self.holder.set(holder);
    }

    /// Who holds the ends handed over on this connection, if this side names them.
    pub(crate) fn holder(&self) -> Option<Arc<dyn Holder>> {
        self.holder.get().cloned()
    }

    pub(crate) fn own_window(&self) -> u64 {
        self.limits.own_window.max(1)
    }

    pub(crate) fn post(self: &Arc<Self>, message: PortMessage) {
        self.wire.post(self, message);
    }

    fn too_many(&self) -> IpcError {
        IpcError::TooManyPorts {
            limit: self.limits.max_ports,
        }
    }

    /// Opens a port this side transfers: the peer's messages go to `inbox` (none for a stream
    /// this side produces).
    ///
    /// # Errors
    ///
    /// `TooManyPorts` at the limit; `Disconnected` once the connection is gone.
    pub(crate) fn open_here(
        self: &Arc<Self>,
        inbox: Option<Arc<Inbox>>,
    ) -> Result<Arc<RemotePort>, IpcError> {
        let mut entries = lock(&self.entries);
        if let Some(reason) = &entries.gone {
            return Err(IpcError::disconnected(reason.clone()));
        }
        if entries.open.len() >= self.limits.max_ports {
            return Err(self.too_many());
        }
        let id = self.next_id.fetch_add(2, Ordering::Relaxed);
        // Held until the message that names it is queued (see `context::encoding`).
        let remote = Arc::new(RemotePort::new(
            Arc::downgrade(self),
            id,
            self.limits.peer_window,
            true,
        ));
        if let Some(inbox) = &inbox {
            inbox.feed_from(Arc::downgrade(self), id, self.own_window());
        }
        entries.open.insert(
            id,
            Entry {
                inbox,
                remote: remote.clone(),
            },
        );
        Ok(remote)
    }

    /// Opens the ports a frame from the peer transfers; its payload's references claim them.
    ///
    /// # Errors
    ///
    /// `Protocol` for an id the peer may not open (the receiver's parity, not new, listed
    /// twice), `TooManyPorts` past the limit; nothing is opened then.
    pub(crate) fn open_there(
        self: &Arc<Self>,
        ids: Vec<u64>,
    ) -> Result<Option<Arc<dyn DecodeContext>>, IpcError> {
        if ids.is_empty() {
            return Ok(None);
        }
        let mut entries = lock(&self.entries);
        if let Some(reason) = &entries.gone {
            return Err(IpcError::disconnected(reason.clone()));
        }
        let mut high = entries.peer_high;
        for &id in &ids {
            if id == 0 || self.side.owns(id) {
                return Err(IpcError::Protocol {
                    reason: format!("port {id} is not an id the peer may open"),
                });
            }
            if id <= high {
                return Err(IpcError::Protocol {
                    reason: format!(
                        "port {id} is not new (ports are opened with increasing ids, and {high} \
                         was opened already): a port end cannot be transferred twice"
                    ),
                });
            }
            high = id;
        }
        if entries.open.len() + ids.len() > self.limits.max_ports {
            return Err(self.too_many());
        }
        entries.peer_high = high;
        let mut unclaimed = Vec::with_capacity(ids.len());
        for &id in &ids {
            let inbox = Inbox::new(self.own_window() as usize);
            inbox.feed_from(Arc::downgrade(self), id, self.own_window());
            let remote = Arc::new(RemotePort::new(
                Arc::downgrade(self),
                id,
                self.limits.peer_window,
                false,
            ));
            entries.open.insert(
                id,
                Entry {
                    inbox: Some(inbox.clone()),
                    remote: remote.clone(),
                },
            );
            unclaimed.push((id, inbox, remote));
        }
        Ok(Some(Arc::new(Transfers {
            ports: self.clone(),
            unclaimed: Mutex::new(unclaimed),
        })))
    }

    /// Applies a `port`, `credit` or `close` frame from the peer (any other frame is left to
    /// the caller and ignored here).
    ///
    /// # Errors
    ///
    /// As [`ConnPorts::open_there`], [`ConnPorts::deliver`], [`ConnPorts::credit`] and
    /// [`ConnPorts::closed_there`]: the connection answers with an error frame and goes on.
    pub(crate) fn apply(self: &Arc<Self>, frame: Frame, codec: Codec) -> Result<(), IpcError> {
        match frame {
            Frame::Port {
                port,
                data,
                ports: transferred,
            } => {
                let context = self.open_there(transferred)?;
                self.deliver(port, Payload::encoded_with(codec, data, context))
            }
            Frame::Credit { port, n } => self.credit(port, n),
            Frame::Close {
                port,
                reason,
                outcome,
            } => self.closed_there(
                port,
                reason,
                outcome.map(|value| Payload::encoded(codec, value)),
            ),
            _ => Ok(()),
        }
    }

    /// A message from the peer on `port`.
    ///
    /// # Errors
    ///
    /// `Protocol` for a port that was never opened or that the peer closed (the connection
    /// answers with an error frame and goes on).
    pub(crate) fn deliver(&self, port: u64, data: Payload) -> Result<(), IpcError> {
        let entries = lock(&self.entries);
        let Some(entry) = entries.open.get(&port) else {
            return self.not_open(&entries, port, "a message");
        };
        let Some(inbox) = entry.inbox.clone() else {
            drop(entries);
            self.fail(port, "a stream's consumer sent a message on it");
            return Ok(());
        };
        drop(entries);
        match inbox.put_remote(data) {
            Ok(()) => Ok(()),
            Err(Refused::PastCredit) => {
                self.fail(port, "the peer sent past its credit");
                Ok(())
            }
            Err(Refused::Closed | Refused::Full(_)) => Ok(()),
        }
    }

    /// The peer grants `n` more messages on `port`.
    ///
    /// # Errors
    ///
    /// As [`ConnPorts::deliver`].
    pub(crate) fn credit(&self, port: u64, n: u64) -> Result<(), IpcError> {
        let entries = lock(&self.entries);
        let Some(entry) = entries.open.get(&port) else {
            return self.not_open(&entries, port, "credit");
        };
        let remote = entry.remote.clone();
        drop(entries);
        if let Err(error) = remote.grant(n) {
            self.fail(port, &error.to_string());
        }
        Ok(())
    }

    /// The peer closed `port`.
    ///
    /// # Errors
    ///
    /// As [`ConnPorts::deliver`].
    pub(crate) fn closed_there(
        &self,
        port: u64,
        reason: Option<String>,
        outcome: Outcome<Payload>,
    ) -> Result<(), IpcError> {
        let mut entries = lock(&self.entries);
        let Some(entry) = entries.open.remove(&port) else {
            if entries.closed_here.contains(port) {
                // Both sides closed at once.
                return Ok(());
            }
            return self.not_open(&entries, port, "a close");
        };
        entries.closed_there.insert(port);
        drop(entries);
        let closed = match outcome {
            Outcome::Done => Closed::done(reason),
            Outcome::App(value) => Closed::App(Arc::new(Mutex::new(Some(value)))),
            Outcome::Error(error) => Closed::Error((*error).into()),
        };
        entry.remote.closed_by_peer(closed.clone());
        if let Some(inbox) = entry.inbox {
            inbox.close(closed);
        }
        Ok(())
    }

    /// This side closes `port`: the close goes out (after what waits for credit), the peer's
    /// later messages are dropped.
    pub(crate) fn close_here(&self, port: u64, reason: Option<String>, outcome: Outcome<Payload>) {
        let mut entries = lock(&self.entries);
        let Some(entry) = entries.open.remove(&port) else {
            return;
        };
        entries.closed_here.insert(port);
        drop(entries);
        // What waits on this side's end (a local partner whose other end never left) learns
        // of the close too.
        if let Some(inbox) = &entry.inbox {
            inbox.close(Closed::done(reason.clone()));
        }
        entry.remote.close(reason, outcome);
    }

    /// Closes `port` for a protocol fault of the peer's, telling both sides.
    fn fail(&self, port: u64, reason: &str) {
        let error = IpcError::Protocol {
            reason: format!("port {port}: {reason}"),
        };
        tracing::warn!(port, %reason, "port closed for a protocol fault");
        let mut entries = lock(&self.entries);
        let Some(entry) = entries.open.remove(&port) else {
            return;
        };
        entries.closed_here.insert(port);
        drop(entries);
        if let Some(inbox) = &entry.inbox {
            inbox.close(Closed::Error(error.clone()));
        }
        entry
            .remote
            .close(None, Outcome::Error(Box::new(WireError::from(&error))));
        entry.remote.closed_by_peer(Closed::Error(error));
    }

    fn not_open(&self, entries: &Entries, port: u64, what: &str) -> Result<(), IpcError> {
        if entries.closed_here.contains(port) {
            // In flight when this side closed it.
            return Ok(());
        }
        let reason = if entries.closed_there.contains(port) {
            format!("{what} on port {port} after its close")
        } else {
            format!("{what} on port {port}, which is not open")
        };
        Err(IpcError::Protocol { reason })
    }

    /// The connection ended: every port closes with `reason`.
    pub(crate) fn close_all(&self, reason: &str) {
        let mut entries = lock(&self.entries);
        entries.gone = Some(reason.to_string());
        let open: Vec<Entry> = entries.open.drain().map(|(_, entry)| entry).collect();
        drop(entries);
        let closed = Closed::Error(IpcError::disconnected(reason.to_string()));
        for entry in open {
            entry.remote.closed_by_peer(closed.clone());
            if let Some(inbox) = entry.inbox {
                inbox.close(closed.clone());
            }
        }
    }

    /// The messages that opened `ids` are queued: their ports may send.
    pub(crate) fn release(&self, ids: &[u64]) {
        let remotes: Vec<Arc<RemotePort>> = {
            let entries = lock(&self.entries);
            ids.iter()
                .filter_map(|id| entries.open.get(id).map(|entry| entry.remote.clone()))
                .collect()
        };
        for remote in remotes {
            remote.release();
        }
    }

    /// How many ports are open.
    pub(crate) fn open_count(&self) -> usize {
        lock(&self.entries).open.len()
    }
}

/// The ports one received frame transferred: its payload's references claim them while it
/// decodes; those still unclaimed when the payload is gone are closed.
pub(crate) struct Transfers {
    ports: Arc<ConnPorts>,
    /// Each port with its inbox and sending side (kept here, so that a port whose messages and
    /// close all came before its reference was decoded is still received whole).
    unclaimed: Mutex<Vec<Transferred>>,
}

/// One port of a transfer: its id, inbox and sending side.
type Transferred = (u64, Arc<Inbox>, Arc<RemotePort>);

impl Transfers {
    /// Claims port `id` for a reference being decoded.
    pub(crate) fn claim(&self, id: u64) -> Result<(Arc<Inbox>, Arc<RemotePort>), String> {
        let mut unclaimed = lock(&self.unclaimed);
        let Some(at) = unclaimed.iter().position(|(listed, ..)| *listed == id) else {
            return Err(format!(
                "port {id} is not among the ports its frame transferred (or was taken already)"
            ));
        };
        let (_, inbox, remote) = unclaimed.swap_remove(at);
        Ok((inbox, remote))
    }
}

impl DecodeContext for Transfers {
    fn enter(self: Arc<Self>, decode: &mut dyn FnMut()) {
        super::context::decoding(self, decode);
    }
}

impl Drop for Transfers {
    fn drop(&mut self) {
        let unclaimed = std::mem::take(&mut *lock(&self.unclaimed));
        for (id, ..) in unclaimed {
            self.ports
                .close_here(id, Some("not received".into()), Outcome::Done);
        }
    }
}

/// A port table whose wire is gone keeps working as a closed one (for ends that outlive it).
pub(crate) fn weak_post(ports: &Weak<ConnPorts>, message: PortMessage) {
    if let Some(ports) = ports.upgrade() {
        ports.post(message);
    }
}
