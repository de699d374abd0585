//! One end of a port, untyped: an inbox it reads, and a target its messages go to (the inbox of
//! its partner in this process, or a port on a connection). The typed [`Port`](super::Port) and
//! [`Stream`](super::Stream) are built on it.
//!
//! **Transfer.** Serializing an end onto a connection opens a port there. For one of a pair made
//! in this process, the partner is rewired in place: its messages now go out as frames and the
//! port's messages come into its inbox, so nothing sits in between. An end that itself came over
//! a connection is relayed (a task forwards between the two ports, with flow control on both).

use std::future::poll_fn;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use super::holder::{HeldBy, Holder};
use super::inbox::{Closed, Direct, Inbox, Refused};
use super::remote::RemotePort;
use super::table::ConnPorts;
use crate::error::IpcError;
use crate::util::lock;
use crate::wire::{Outcome, Payload, WireError};

/// Where an end's messages go.
#[derive(Clone)]
pub(crate) enum Target {
    /// The partner end's inbox, in this process.
    Local(Arc<Inbox>),
    /// A port on a connection.
    Remote(Arc<RemotePort>),
}

pub(crate) struct EndCore {
    inbox: Arc<Inbox>,
    target: Arc<Mutex<Target>>,
    /// The partner's target (one of a pair made in this process): rewired when this end is
    /// transferred.
    partner: Weak<Mutex<Target>>,
    /// Shared by the two ends of a pair made in this process, held while either end is
    /// transferred or closed: the two ends handed to two connections at once (two threads
    /// encoding) would otherwise each rewire the other and leave both talking to inboxes nobody
    /// reads; one closing while the other is rewired would lose the close.
    wiring: Arc<Mutex<()>>,
    /// Who holds the far end, once it went onto a connection that names its renderer (shared
    /// by the two ends of a pair made in this process).
    held_by: HeldBy,
}

impl EndCore {
    /// Two entangled ends, each queueing up to `window` messages from the other.
    pub(crate) fn pair(window: usize) -> (EndCore, EndCore) {
        let a_inbox = Inbox::new(window);
        let b_inbox = Inbox::new(window);
        let a_target = Arc::new(Mutex::new(Target::Local(b_inbox.clone())));
        let b_target = Arc::new(Mutex::new(Target::Local(a_inbox.clone())));
        let wiring = Arc::new(Mutex::new(()));
        let held_by = HeldBy::default();
        let a = EndCore {
            inbox: a_inbox,
            target: a_target.clone(),
            partner: Arc::downgrade(&b_target),
            wiring: wiring.clone(),
            held_by: held_by.clone(),
        };
        let b = EndCore {
            inbox: b_inbox,
            target: b_target,
            partner: Arc::downgrade(&a_target),
            wiring,
            held_by,
        };
        (a, b)
    }

    /// The end of a port that came over a connection.
    pub(crate) fn remote(inbox: Arc<Inbox>, remote: Arc<RemotePort>) -> EndCore {
        EndCore {
            inbox,
            target: Arc::new(Mutex::new(Target::Remote(remote))),
            partner: Weak::new(),
            wiring: Arc::new(Mutex::new(())),
            held_by: HeldBy::default(),
        }
    }

    /// Who holds the far end, as the connection it went onto vouches (see [`Holder`]).
    pub(crate) fn holder(&self) -> Option<Arc<dyn Holder>> {
        self.held_by.get()
    }

    /// Sends `message` once there is room for it (the partner's inbox, or the peer's credit);
    /// keeps it and registers `cx` otherwise.
    pub(crate) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        message: &mut Option<Payload>,
    ) -> Poll<Result<(), IpcError>> {
        // Held while the message is handed over, so a transfer rewiring this target happens
        // before or after, never during.
        Self::poll_send_to(&lock(&self.target), cx, message)
    }

    /// [`EndCore::poll_send`] to `target`, this end's, locked.
    pub(crate) fn poll_send_to(
        target: &Target,
        cx: &mut Context<'_>,
        message: &mut Option<Payload>,
    ) -> Poll<Result<(), IpcError>> {
        match target {
            Target::Remote(remote) => remote.poll_send(cx, message),
            Target::Local(inbox) => {
                let Some(data) = message.take() else {
                    return Poll::Ready(Ok(()));
                };
                match inbox.put_local(data, Some(cx)) {
                    Ok(()) => Poll::Ready(Ok(())),
                    Err(Refused::Full(data)) => {
                        *message = Some(data);
                        Poll::Pending
                    }
                    Err(Refused::Closed) => {
                        Poll::Ready(Err(IpcError::disconnected("the port is closed")))
                    }
                    Err(Refused::PastCredit) => Poll::Ready(Ok(())),
                }
            }
        }
    }

    /// Sends `message` if there is room now.
    ///
    /// # Errors
    ///
    /// `TooManyInFlight` (with the window) when the receiver has no room; `Disconnected` when
    /// the port is closed.
    pub(crate) fn try_send(&self, message: Payload) -> Result<(), IpcError> {
        let target = lock(&self.target);
        match &*target {
            Target::Remote(remote) => {
                if remote.is_closed() {
                    return Err(IpcError::disconnected("the port is closed"));
                }
                if !remote.has_room() {
                    return Err(IpcError::TooManyInFlight {
                        limit: self.inbox.capacity(),
                    });
                }
                remote.push(message);
                Ok(())
            }
            Target::Local(inbox) => match inbox.put_local(message, None) {
                Ok(()) | Err(Refused::PastCredit) => Ok(()),
                Err(Refused::Full(_)) => Err(IpcError::TooManyInFlight {
                    limit: inbox.capacity(),
                }),
                Err(Refused::Closed) => Err(IpcError::disconnected("the port is closed")),
            },
        }
    }

    /// Sends `message` now if the receiver has room, else gives it back. Dropped when the port
    /// is closed.
    pub(crate) fn try_push_to(target: &Target, message: Payload) -> Option<Payload> {
        match target {
            Target::Remote(remote) => remote.try_push(message).err(),
            Target::Local(inbox) => inbox.try_put_local(message).err(),
        }
    }

    /// Runs `send` with this end's target (locked), unless the partner takes messages directly
    /// now (see [`Direct`]): then gives back that partner and `message`, for the sender to offer
    /// it outside its locks. One look at the target either way.
    pub(crate) fn send_or_direct<R>(
        &self,
        message: Payload,
        send: &mut impl FnMut(&Target, Payload) -> R,
    ) -> Result<R, (Arc<dyn Direct>, Payload)> {
        let target = lock(&self.target);
        if let Target::Local(inbox) = &*target {
            if let Some(direct) = inbox.direct_now() {
                return Err((direct, message));
            }
        }
        Ok(send(&target, message))
    }

    /// Runs `send` with this end's target (locked).
    pub(crate) fn with_target<R>(&self, send: impl FnOnce(&Target) -> R) -> R {
        send(&lock(&self.target))
    }

    /// Messages from a connection go to `direct` when it can take them (see [`Direct`]).
    pub(crate) fn take_directly(&self, direct: Arc<dyn Direct>) {
        self.inbox.take_directly(direct);
    }

    /// The next message, or how the port closed.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Result<Payload, Closed>> {
        self.inbox.poll_take(cx)
    }

    /// Whether the other side closed (or the connection ended).
    pub(crate) fn is_closed(&self) -> bool {
        self.inbox.is_closed()
            || match &*lock(&self.target) {
                Target::Remote(remote) => remote.is_closed(),
                Target::Local(inbox) => inbox.is_closed(),
            }
    }

    /// Closes the port for both ends: the other side sees `closed` after the messages this end
    /// sent before.
    pub(crate) fn close(self, closed: Closed) {
        let wiring = self.wiring.clone();
        let _wiring = lock(&wiring);
        let target = lock(&self.target).clone();
        match target {
            Target::Local(partner) => partner.close(closed.clone()),
            Target::Remote(remote) => {
                let (reason, outcome) = outcome_of(&closed);
                remote.shutdown(reason, outcome);
            }
        }
        self.inbox
            .abandon(Closed::done(Some("closed on this side".to_string())));
    }

    /// Hands this end over to the connection of `ports`: the returned port id names it there.
    ///
    /// # Errors
    ///
    /// `TooManyPorts` or `Disconnected` from the connection's table; the end is then closed with
    /// that error, so that its partner learns it rather than waiting.
    pub(crate) fn transfer(self, ports: &Arc<ConnPorts>) -> Result<u64, IpcError> {
        // Its messages are for whoever holds it next (a relay reads its queue).
        self.inbox.stop_taking_directly();
        let wiring = self.wiring.clone();
        let wired = lock(&wiring);
        let target = lock(&self.target).clone();
        let partner = self.partner.upgrade();
        match (target, partner) {
            (Target::Local(partner_inbox), Some(partner_target)) => {
                // Who holds it from now on, known before anything of the port's can be read:
                // the message's recipient where it names one (a window behind a bridge), else
                // whoever the connection names.
                self.held_by
                    .set(super::context::holder().or_else(|| ports.holder()));
                // The partner's messages now go out on the port, and the port's come into the
                // partner's inbox.
                let remote = match ports.open_here(Some(partner_inbox)) {
                    Ok(remote) => remote,
                    Err(error) => {
                        drop(wired);
                        self.close(Closed::Error(error.clone()));
                        return Err(error);
                    }
                };
                *lock(&partner_target) = Target::Remote(remote.clone());
                let (queued, closed) = self.inbox.drain();
                for message in queued {
                    remote.push(message);
                }
                if let Some(closed) = closed {
                    let (reason, outcome) = outcome_of(&closed);
                    remote.shutdown(reason, outcome);
                }
                Ok(remote.id())
            }
            _ => {
                drop(wired);
                // A port end that came over a connection (or whose partner is gone): relayed.
                // The runtime first: nothing is opened for a relay that cannot run.
                let runtime = match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => runtime,
                    Err(_) => {
                        let error = IpcError::Encode {
                            reason: "a port end received from one connection can be passed on \
                                     only inside a Tokio runtime (a task relays it)"
                                .into(),
                        };
                        self.close(Closed::Error(error.clone()));
                        return Err(error);
                    }
                };
                let (near, far) = EndCore::pair(self.inbox.capacity());
                match far.transfer(ports) {
                    Ok(id) => {
                        runtime.spawn(relay(self, near));
                        Ok(id)
                    }
                    Err(error) => {
                        self.close(Closed::Error(error.clone()));
                        Err(error)
                    }
                }
            }
        }
    }
}

/// The `close` frame's reason and outcome for how a port closed.
pub(crate) fn outcome_of(closed: &Closed) -> (Option<String>, Outcome<Payload>) {
    match closed {
        Closed::Done { reason } => (reason.clone(), Outcome::Done),
        Closed::App(value) => match lock(value).take() {
            Some(value) => (None, Outcome::App(value)),
            None => (None, Outcome::Done),
        },
        Closed::Error(error) => (None, Outcome::Error(Box::new(WireError::from(error)))),
    }
}

/// Forwards messages between two ends both ways until either closes, then closes the other with
/// the same outcome.
async fn relay(a: EndCore, b: EndCore) {
    let closed = {
        let forward_ab = forward(&a, &b);
        let forward_ba = forward(&b, &a);
        tokio::pin!(forward_ab, forward_ba);
        tokio::select! {
            closed = &mut forward_ab => (true, closed),
            closed = &mut forward_ba => (false, closed),
        }
    };
    match closed {
        (true, closed) => {
            b.close(closed);
            a.close(Closed::done(None));
        }
        (false, closed) => {
            a.close(closed);
            b.close(Closed::done(None));
        }
    }
}

/// Moves `from`'s messages to `to` until `from` closes (its outcome) or `to` refuses.
async fn forward(from: &EndCore, to: &EndCore) -> Closed {
    loop {
        let message = match poll_fn(|cx| from.poll_recv(cx)).await {
            Ok(message) => message,
            Err(closed) => return closed,
        };
        let mut slot = Some(message);
        if let Err(error) = poll_fn(|cx| to.poll_send(cx, &mut slot)).await {
            return Closed::Error(error);
        }
    }
}
