//! The sending side of a port on a connection: messages go out as `port` frames within the
//! credits the peer granted; what cannot go yet waits in order (a backlog), and a close goes out
//! after it.

use std::collections::VecDeque;
use std::sync::{Mutex, Weak};
use std::task::{Context, Poll, Waker};

use super::inbox::Closed;
use super::table::ConnPorts;
use crate::error::IpcError;
use crate::transport::message::PortMessage;
use crate::util::lock;
use crate::wire::{Outcome, Payload};

pub(crate) struct RemotePort {
    ports: Weak<ConnPorts>,
    id: u64,
    /// The peer's window: the most credit it may ever have granted.
    window: u64,
    state: Mutex<State>,
}

struct State {
    /// The frame that opens the port has not gone out yet: nothing may precede it.
    held: bool,
    /// Messages the peer allows now.
    credit: u64,
    /// Messages waiting for credit, in order.
    backlog: VecDeque<Payload>,
    /// A close to send once the backlog is out.
    closing: Option<(Option<String>, Outcome<Payload>)>,
    /// Nothing more may be sent: closed by this side, by the peer, or with the connection.
    closed: Option<Closed>,
    senders: Vec<Waker>,
    /// A producer watching for the consumer's cancel.
    watcher: Option<Waker>,
}

impl RemotePort {
    /// The sending side of port `id`; `held` until the frame that opens it is queued.
    /// A port the peer takes `window` messages on before it grants more (its whole credit).
    pub(crate) fn new(ports: Weak<ConnPorts>, id: u64, window: u64, held: bool) -> RemotePort {
        let credit = window;
        RemotePort {
            ports,
            id,
            window,
            state: Mutex::new(State {
                held,
                credit,
                backlog: VecDeque::new(),
                closing: None,
                closed: None,
                senders: Vec::new(),
                watcher: None,
            }),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    fn post(&self, message: PortMessage) {
        if let Some(ports) = self.ports.upgrade() {
            ports.post(message);
        }
    }

    /// Sends `message` when the peer has room for it; keeps it (and registers `cx`) otherwise.
    pub(crate) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        message: &mut Option<Payload>,
    ) -> Poll<Result<(), IpcError>> {
        let mut state = lock(&self.state);
        if let Some(closed) = &state.closed {
            return Poll::Ready(Err(send_error(closed)));
        }
        if state.closing.is_some() {
            return Poll::Ready(Err(IpcError::disconnected("the port is closed")));
        }
        if state.held || state.credit == 0 || !state.backlog.is_empty() {
            // Polled again while waiting (a `select!` over both directions of a relay): one
            // waker per task, not one per poll.
            if !state.senders.iter().any(|w| w.will_wake(cx.waker())) {
                state.senders.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let Some(data) = message.take() else {
            return Poll::Ready(Ok(()));
        };
        state.credit -= 1;
        drop(state);
        self.post(PortMessage::Data {
            port: self.id,
            data,
        });
        Poll::Ready(Ok(()))
    }

    /// Whether a message would go out now.
    pub(crate) fn has_room(&self) -> bool {
        let state = lock(&self.state);
        state.closed.is_none()
            && state.closing.is_none()
            && !state.held
            && state.credit > 0
            && state.backlog.is_empty()
    }

    /// Sends `data` now if the peer has room ([`RemotePort::has_room`]), else gives it back.
    /// Dropped when the port is closed.
    pub(crate) fn try_push(&self, data: Payload) -> Result<(), Payload> {
        let mut state = lock(&self.state);
        if state.closed.is_some() || state.closing.is_some() {
            return Ok(());
        }
        if state.held || state.credit == 0 || !state.backlog.is_empty() {
            return Err(data);
        }
        state.credit -= 1;
        drop(state);
        self.post(PortMessage::Data {
            port: self.id,
            data,
        });
        Ok(())
    }

    /// Sends `message` now if the peer has room, else queues it behind the others (used for
    /// messages that were already accepted elsewhere, such as an inbox handed over).
    pub(crate) fn push(&self, data: Payload) {
        let mut state = lock(&self.state);
        if state.closed.is_some() || state.closing.is_some() {
            return;
        }
        if !state.held && state.credit > 0 && state.backlog.is_empty() {
            state.credit -= 1;
            drop(state);
            self.post(PortMessage::Data {
                port: self.id,
                data,
            });
        } else {
            state.backlog.push_back(data);
        }
    }

    /// The peer granted `n` more messages: the backlog goes out, then waiting senders go.
    ///
    /// # Errors
    ///
    /// The grant would take the credit past the peer's window: a receiver grants back only
    /// what it took, so more is a peer growing what this side may queue for it.
    pub(crate) fn grant(&self, n: u64) -> Result<(), IpcError> {
        let mut state = lock(&self.state);
        let credit = state.credit.saturating_add(n);
        if credit > self.window {
            return Err(IpcError::Protocol {
                reason: format!(
                    "credit for port {} would reach {credit} messages, past its window of {}",
                    self.id, self.window
                ),
            });
        }
        state.credit = credit;
        drop(state);
        self.flush();
        Ok(())
    }

    /// The frame that opens the port is queued: what waited for it may go.
    pub(crate) fn release(&self) {
        lock(&self.state).held = false;
        self.flush();
    }

    /// Sends what the backlog may send now (then the close waiting behind it), and wakes the
    /// senders.
    fn flush(&self) {
        let mut state = lock(&self.state);
        if state.held {
            return;
        }
        let mut out = Vec::new();
        while state.credit > 0 {
            let Some(data) = state.backlog.pop_front() else {
                break;
            };
            state.credit -= 1;
            out.push(data);
        }
        let close = if state.backlog.is_empty() {
            state.closing.take()
        } else {
            None
        };
        if let Some((reason, _)) = &close {
            state.closed = Some(Closed::done(reason.clone()));
        }
        let senders = std::mem::take(&mut state.senders);
        drop(state);
        for data in out {
            self.post(PortMessage::Data {
                port: self.id,
                data,
            });
        }
        if let Some((reason, outcome)) = close {
            self.post(PortMessage::Close {
                port: self.id,
                reason,
                outcome,
            });
        }
        for waker in senders {
            waker.wake();
        }
    }

    /// Closes this side: the close goes out after the backlog. Later sends fail.
    pub(crate) fn close(&self, reason: Option<String>, outcome: Outcome<Payload>) {
        let mut state = lock(&self.state);
        if state.closed.is_some() || state.closing.is_some() {
            return;
        }
        let senders = std::mem::take(&mut state.senders);
        if state.backlog.is_empty() && !state.held {
            state.closed = Some(Closed::done(reason.clone()));
            drop(state);
            self.post(PortMessage::Close {
                port: self.id,
                reason,
                outcome,
            });
        } else {
            // Sent once the backlog is out (as credit comes); `closing` stops new sends.
            state.closing = Some((reason, outcome));
        }
        for waker in senders {
            waker.wake();
        }
    }

    /// Closes the port from this side and forgets it in its connection's table (late messages
    /// for it are then dropped, not refused).
    pub(crate) fn shutdown(&self, reason: Option<String>, outcome: Outcome<Payload>) {
        match self.ports.upgrade() {
            Some(ports) => ports.close_here(self.id, reason, outcome),
            None => self.close(reason, outcome),
        }
    }

    /// The port closed from the other side (or with the connection): nothing more is sent.
    pub(crate) fn closed_by_peer(&self, closed: Closed) {
        let mut state = lock(&self.state);
        state.backlog.clear();
        state.closing = None;
        if state.closed.is_none() {
            state.closed = Some(closed);
        }
        for waker in state.senders.drain(..) {
            waker.wake();
        }
        if let Some(waker) = state.watcher.take() {
            waker.wake();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        let state = lock(&self.state);
        state.closed.is_some() || state.closing.is_some()
    }

    /// `Ready` once the port is closed from the other side (a stream's consumer cancelled).
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            return Poll::Ready(());
        }
        state.watcher = Some(cx.waker().clone());
        Poll::Pending
    }
}

fn send_error(closed: &Closed) -> IpcError {
    match closed {
        Closed::Error(error) => error.clone(),
        Closed::Done { reason } => IpcError::disconnected(match reason {
            Some(reason) => format!("the port is closed: {reason}"),
            None => "the port is closed".to_string(),
        }),
        Closed::App(_) => IpcError::disconnected("the port is closed"),
    }
}
