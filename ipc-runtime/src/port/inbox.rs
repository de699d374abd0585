//! The receiving side of one port end: messages in order, then the close.
//!
//! An inbox is filled either by a partner end in this process (which waits for room: the inbox
//! holds at most a window of messages) or by a connection (which never waits: the peer may send
//! only what it was granted, and the inbox grants more, in `credit` frames, as its owner takes
//! messages).
//!
//! An owner can take messages at once, in the task they come from ([`Direct`]): the task that
//! reads the connection, or a local partner's own (which offers its message outside its locks).
//! A capability's object starts a call there rather than in a task of its own woken for it.
//! Messages go that way only while nothing is queued and the owner is not busy with one it took,
//! so one sender's messages are still taken in order.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};

use super::table::{ConnPorts, weak_post};
use crate::transport::message::PortMessage;
use crate::util::lock;
use crate::wire::Payload;

/// How a port closed, as its other side (or the connection) said.
#[derive(Debug, Clone)]
pub(crate) enum Closed {
    /// Closed with nothing to report (a stream that finished; a port closed or dropped).
    Done { reason: Option<String> },
    /// A stream's application error (still encoded, or the value itself in process).
    App(Arc<Mutex<Option<Payload>>>),
    /// A framework error: the connection ended, a peer broke the protocol, a producer failed.
    Error(crate::error::IpcError),
}

impl Closed {
    pub(crate) fn done(reason: impl Into<Option<String>>) -> Self {
        Closed::Done {
            reason: reason.into(),
        }
    }
}

/// Who fills an inbox, and so must hear when room is made.
enum Feeder {
    /// A partner end in this process, waiting for room.
    Local,
    /// A connection: room made is granted back as credit once half a window is taken.
    Remote {
        ports: Weak<ConnPorts>,
        port: u64,
        /// What the peer may send before credit (granted back in halves).
        window: u64,
        /// Messages the peer may still send before more credit (what it was allowed, less what
        /// it sent).
        allowance: u64,
        /// Taken since the last credit was granted.
        taken: u64,
    },
}

/// An owner that takes messages as they come, in the task they come from.
pub(crate) trait Direct: Send + Sync {
    /// Takes `message`, or gives it back to be queued (the owner cannot act on it now).
    fn offer(&self, message: Payload) -> Result<(), Payload>;
}

pub(crate) struct Inbox {
    state: Mutex<State>,
    /// Messages a local partner may queue before it waits.
    capacity: usize,
}

struct State {
    queue: VecDeque<Payload>,
    closed: Option<Closed>,
    feeder: Feeder,
    /// The owner waiting for a message.
    reader: Option<Waker>,
    /// Local senders waiting for room.
    senders: Vec<Waker>,
    /// The owner taking the connection's messages as they are read, when it can.
    direct: Option<Arc<dyn Direct>>,
    /// The owner took a queued message and has not come back for the next one: a message read
    /// now must wait behind the one being handled, so it is queued.
    busy: bool,
}

/// Why a message could not be put in an inbox.
pub(crate) enum Refused {
    /// The inbox is closed (its owner is gone, or it was closed).
    Closed,
    /// Full: a local sender must wait (registered for a wake-up when room is made).
    Full(Payload),
    /// The connection's peer sent more than it was allowed.
    PastCredit,
}

impl Inbox {
    pub(crate) fn new(capacity: usize) -> Arc<Inbox> {
        Arc::new(Inbox {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                closed: None,
                feeder: Feeder::Local,
                reader: None,
                senders: Vec::new(),
                direct: None,
                busy: false,
            }),
            capacity: capacity.max(1),
        })
    }

    /// From now on the inbox is filled by port `port` of `ports`, whose peer may send `window`
    /// messages before credit.
    pub(crate) fn feed_from(&self, ports: Weak<ConnPorts>, port: u64, window: u64) {
        let mut state = lock(&self.state);
        state.feeder = Feeder::Remote {
            ports,
            port,
            window: window.max(1),
            allowance: window.max(1),
            taken: 0,
        };
        // Local senders that waited for room wait for nothing now.
        for waker in state.senders.drain(..) {
            waker.wake();
        }
    }

    /// From now on messages are offered to `direct` when nothing is queued (a connection's in
    /// [`Inbox::put_remote`], a local partner's through [`Inbox::direct_now`]).
    pub(crate) fn take_directly(&self, direct: Arc<dyn Direct>) {
        lock(&self.state).direct = Some(direct);
    }

    /// Puts a message from a local partner; `Full` registers `cx` for a wake-up.
    pub(crate) fn put_local(
        &self,
        message: Payload,
        cx: Option<&mut Context<'_>>,
    ) -> Result<(), Refused> {
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            return Err(Refused::Closed);
        }
        if state.queue.len() >= self.capacity {
            if let Some(cx) = cx {
                if !state.senders.iter().any(|w| w.will_wake(cx.waker())) {
                    state.senders.push(cx.waker().clone());
                }
            }
            return Err(Refused::Full(message));
        }
        state.queue.push_back(message);
        wake(state.reader.take());
        Ok(())
    }

    /// Messages are no longer offered directly: the end is handed on (whoever reads it now reads
    /// the queue).
    pub(crate) fn stop_taking_directly(&self) {
        lock(&self.state).direct = None;
    }

    /// The owner that takes messages directly, if it may take one now (nothing queued, the
    /// owner not busy with one it took): a local sender then offers its message to it, outside
    /// its own locks (the owner runs code of its own on it).
    pub(crate) fn direct_now(&self) -> Option<Arc<dyn Direct>> {
        let state = lock(&self.state);
        state
            .direct
            .clone()
            .filter(|_| !state.busy && state.queue.is_empty() && state.closed.is_none())
    }

    /// Puts a local partner's message if there is room (fewer than its capacity queued), else
    /// gives it back. Dropped when the inbox is closed.
    pub(crate) fn try_put_local(&self, message: Payload) -> Result<(), Payload> {
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            return Ok(());
        }
        if state.queue.len() >= self.capacity {
            return Err(message);
        }
        state.queue.push_back(message);
        wake(state.reader.take());
        Ok(())
    }

    /// Puts a message that came over the connection.
    pub(crate) fn put_remote(&self, message: Payload) -> Result<(), Refused> {
        let mut state = lock(&self.state);
        if let Feeder::Remote { allowance, .. } = &mut state.feeder {
            if *allowance == 0 {
                return Err(Refused::PastCredit);
            }
            *allowance -= 1;
        }
        if state.closed.is_some() {
            // Closed on this side while the message was in flight: dropped.
            return Ok(());
        }
        let mut message = message;
        if let Some(direct) = state
            .direct
            .clone()
            .filter(|_| !state.busy && state.queue.is_empty())
        {
            // Offered outside the lock: the owner may send, close or read on this end. Nothing
            // is queued meanwhile (the connection's reader is the only one putting).
            drop(state);
            message = match direct.offer(message) {
                Ok(()) => {
                    let credit = Self::taken(&mut lock(&self.state));
                    if let Some((ports, port, n)) = credit {
                        weak_post(&ports, PortMessage::Credit { port, n });
                    }
                    return Ok(());
                }
                Err(message) => message,
            };
            state = lock(&self.state);
            if state.closed.is_some() {
                return Ok(());
            }
        }
        state.queue.push_back(message);
        wake(state.reader.take());
        Ok(())
    }

    /// Closes the inbox: the owner takes what is queued, then sees `closed`. A second close
    /// keeps the first reason.
    pub(crate) fn close(&self, closed: Closed) {
        let mut state = lock(&self.state);
        if state.closed.is_none() {
            state.closed = Some(closed);
        }
        wake(state.reader.take());
        for waker in state.senders.drain(..) {
            waker.wake();
        }
    }

    /// Closes the inbox and drops what it holds (its owner is gone).
    pub(crate) fn abandon(&self, closed: Closed) -> Vec<Payload> {
        let mut state = lock(&self.state);
        if state.closed.is_none() {
            state.closed = Some(closed);
        }
        for waker in state.senders.drain(..) {
            waker.wake();
        }
        state.queue.drain(..).collect()
    }

    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.state).closed.is_some()
    }

    /// Messages a local partner may queue before it waits.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The next message, or the close once every message is taken.
    pub(crate) fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Result<Payload, Closed>> {
        let mut state = lock(&self.state);
        if let Some(message) = state.queue.pop_front() {
            state.busy = state.direct.is_some();
            let credit = Self::taken(&mut state);
            drop(state);
            if let Some((ports, port, n)) = credit {
                weak_post(&ports, PortMessage::Credit { port, n });
            }
            return Poll::Ready(Ok(message));
        }
        if let Some(closed) = &state.closed {
            return Poll::Ready(Err(closed.clone()));
        }
        state.busy = false;
        match &state.reader {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.reader = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Everything queued now, in order (the inbox's owner is being wired elsewhere).
    pub(crate) fn drain(&self) -> (Vec<Payload>, Option<Closed>) {
        let mut state = lock(&self.state);
        let queued = state.queue.drain(..).collect();
        for waker in state.senders.drain(..) {
            waker.wake();
        }
        (queued, state.closed.clone())
    }

    /// A message was taken: wakes a local sender, or returns the credit to grant.
    fn taken(state: &mut State) -> Option<(Weak<ConnPorts>, u64, u64)> {
        match &mut state.feeder {
            Feeder::Local => {
                if let Some(waker) = state.senders.pop() {
                    waker.wake();
                }
                None
            }
            Feeder::Remote {
                ports,
                port,
                window,
                allowance,
                taken,
            } => {
                if state.closed.is_some() {
                    // The sender is done (or the port was failed): credit would name a port
                    // the peer no longer has open.
                    return None;
                }
                *taken += 1;
                // Granted in batches: half a window at a time, not a frame per message.
                if *taken * 2 >= *window {
                    let n = std::mem::take(taken);
                    *allowance += n;
                    return Some((ports.clone(), *port, n));
                }
                None
            }
        }
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}
