//! Where a port reference is being written or read: the connection whose table a port end
//! joins when it is serialized, and the transfer a reference claims when it is deserialized.
//!
//! Serde gives a `Serialize` impl no context of its own, so the connection puts its port table
//! in a thread-local while it encodes a message (and the received frame's transfers while a
//! payload decodes); the port types' serde impls look there.

use std::cell::RefCell;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::holder::{Holder, Recipient};
use super::table::{ConnPorts, Transfers};
use crate::error::IpcError;
use crate::wire::Outcome;

thread_local! {
    static ENCODING: RefCell<Vec<Encoding>> = const { RefCell::new(Vec::new()) };
    static DECODING: RefCell<Vec<Arc<Transfers>>> = const { RefCell::new(Vec::new()) };
    static AMONG_OTHERS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `send` (a send on a port) noting that it is one of several under way at once (a
/// handle's calls from many tasks): the side that writes the frames may then let a burst share
/// one write, as it does for its own calls in flight, rather than write each at once.
pub(crate) fn among_others<R>(send: impl FnOnce() -> R) -> R {
    hinted(true, send)
}

/// Runs `take` (a partner in this process taking a message directly, which may run a handler)
/// with no hint: whatever it sends is its own, not one of the burst that sent the message.
pub(crate) fn on_its_own<R>(take: impl FnOnce() -> R) -> R {
    hinted(false, take)
}

fn hinted<R>(among_others: bool, run: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            AMONG_OTHERS.set(self.0);
        }
    }
    let _reset = Reset(AMONG_OTHERS.replace(among_others));
    run()
}

/// Whether the message being sent now is one of several under way (see [`among_others`]).
pub(crate) fn sent_among_others() -> bool {
    AMONG_OTHERS.get()
}

/// A message being encoded for a connection, and the ports it transferred so far.
struct Encoding {
    ports: Arc<ConnPorts>,
    transferred: Vec<u64>,
    /// Who the message is for, where the connection serves several (a window behind a
    /// bridge): the ends it hands over are that one's.
    recipient: Option<Recipient>,
}

/// Runs `encode` (a message for the connection of `ports`). If it fails, the ports it
/// transferred meanwhile are closed: the message that named them never goes out. If it
/// succeeds, those ports send nothing until the returned [`Announce`] is dropped, which the
/// caller does once the message is queued: a port's frames never precede the frame that opens it.
///
/// `recipient` names who the message is for where the connection serves several (a window behind
/// a bridge); `None`: the connection's own holder ([`ConnPorts::holder`]).
pub(crate) fn encoding<T, E>(
    ports: &Arc<ConnPorts>,
    recipient: Option<Recipient>,
    mut encode: impl FnMut() -> Result<T, E>,
) -> Result<(T, Announce), E> {
    // Most messages transfer no port: they are encoded without this context (no entry made
    // and removed, no reference to the connection taken); one that meets a port is thrown away
    // and encoded again below.
    if let Some(result) = crate::wire::transfer::hoping_for_no_ports(&mut encode) {
        return result.map(|value| (value, Announce::empty()));
    }
    ENCODING.with(|stack| {
        stack.borrow_mut().push(Encoding {
            ports: ports.clone(),
            transferred: Vec::new(),
            recipient,
        })
    });
    /// Pops the entry if `encode` panics, closing what it transferred.
    struct Unwinding(bool);
    impl Drop for Unwinding {
        fn drop(&mut self) {
            if self.0 {
                if let Some(popped) = ENCODING.with(|stack| stack.borrow_mut().pop()) {
                    close_unsent(&popped.ports, popped.transferred);
                }
            }
        }
    }
    let mut unwinding = Unwinding(true);
    let result = crate::wire::transfer::with_ports(encode);
    unwinding.0 = false;
    let popped = ENCODING.with(|stack| stack.borrow_mut().pop());
    // The entry's reference to the connection goes on into the `Announce`, and only when
    // ports were transferred: most messages transfer none, and each reference taken or let go
    // is an atomic operation.
    let announce = match popped {
        Some(popped) if !popped.transferred.is_empty() => Announce {
            ports: Some(popped.ports),
            ids: popped.transferred,
        },
        _ => Announce::empty(),
    };
    match result {
        Ok(value) => Ok((value, announce)),
        Err(error) => {
            announce.abandon();
            Err(error)
        }
    }
}

/// Closes the ports a message transferred when the message never goes out.
fn close_unsent(ports: &Arc<ConnPorts>, ids: Vec<u64>) {
    for id in ids {
        ports.close_here(
            id,
            Some("the message carrying it could not be sent".into()),
            Outcome::Done,
        );
    }
}

/// Lets the ports a queued message transferred send (see [`encoding`]).
#[must_use = "the ports a message transferred send nothing until this is dropped"]
pub(crate) struct Announce {
    /// The connection of the ports transferred; `None` when there are none.
    ports: Option<Arc<ConnPorts>>,
    ids: Vec<u64>,
}

impl Announce {
    /// The message was not queued after all: its ports are closed instead.
    pub(crate) fn abandon(mut self) {
        if let Some(ports) = self.ports.take() {
            close_unsent(&ports, std::mem::take(&mut self.ids));
        }
    }

    /// Nothing to announce.
    pub(crate) fn empty() -> Announce {
        Announce {
            ports: None,
            ids: Vec::new(),
        }
    }
}

impl Drop for Announce {
    fn drop(&mut self) {
        if let Some(ports) = &self.ports {
            ports.release(&self.ids);
        }
    }
}

/// The connection a port reference is written for, if a message is being encoded here.
pub(crate) fn encoder() -> Option<Arc<ConnPorts>> {
    ENCODING.with(|stack| stack.borrow().last().map(|e| e.ports.clone()))
}

/// Who holds the ends the message being encoded hands over: its recipient, else the holder the
/// connection names.
pub(crate) fn holder() -> Option<Arc<dyn Holder>> {
    ENCODING.with(|stack| {
        stack.borrow().last().and_then(|encoding| {
            let connection = encoding.ports.holder()?;
            Some(match &encoding.recipient {
                Some(recipient) => connection.for_recipient(recipient),
                None => connection,
            })
        })
    })
}

/// Notes that the message being encoded transferred port `id` (closed if encoding fails).
pub(crate) fn transferred(id: u64) {
    ENCODING.with(|stack| {
        if let Some(encoding) = stack.borrow_mut().last_mut() {
            encoding.transferred.push(id);
        }
    });
}

/// Runs `decode` with `transfers` claimable.
pub(crate) fn decoding(transfers: Arc<Transfers>, decode: &mut dyn FnMut()) {
    DECODING.with(|stack| stack.borrow_mut().push(transfers));
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            DECODING.with(|stack| {
                stack.borrow_mut().pop();
            });
        }
    }
    let _pop = Pop;
    decode();
}

/// The transfers a reference being decoded may claim.
pub(crate) fn decoder() -> Option<Arc<Transfers>> {
    DECODING.with(|stack| stack.borrow().last().cloned())
}

/// What a payload holds in place of a port end or a stream: `{"$ipc": "port", "port": 7}`.
#[derive(Serialize, Deserialize)]
pub(crate) struct Reference {
    #[serde(rename = "$ipc")]
    pub(crate) kind: String,
    pub(crate) port: u64,
}

/// The connection a port reference (a port end's or a stream's, `what`) being serialized now goes
/// to, or why it cannot go: the message is encoded on the hope that it carries no port (it will
/// be encoded again with its context; nothing may be handed over now), or no connection takes
/// it here.
pub(crate) fn destination(what: &str) -> Result<Arc<ConnPorts>, IpcError> {
    if crate::wire::transfer::port_met_while_hoping() {
        return Err(IpcError::Encode {
            reason: "the message is encoded again with ports".into(),
        });
    }
    encoder()
        .filter(|_| crate::wire::transfer::collecting())
        .ok_or_else(|| not_over_a_connection(what))
}

/// The error for a port end or stream serialized where no connection takes it.
fn not_over_a_connection(what: &str) -> IpcError {
    IpcError::Encode {
        reason: format!(
            "a {what} can only be sent over a connection, to one receiver: in a call's arguments \
             or result, a send, an event to one renderer (`Target::Renderer`), or a port message"
        ),
    }
}

/// The end a reference names, claimed from the transfers of the frame being decoded.
pub(crate) fn claim(reference: &Reference, kind: &str) -> Result<super::end::EndCore, String> {
    if reference.kind != kind {
        return Err(format!(
            "expected a {kind}, found a reference to a {} (port {})",
            reference.kind, reference.port
        ));
    }
    let transfers = decoder().ok_or_else(|| {
        format!("a {kind} can only be received over a connection, from a frame that transferred it")
    })?;
    let (inbox, remote) = transfers.claim(reference.port)?;
    Ok(super::end::EndCore::remote(inbox, remote))
}
