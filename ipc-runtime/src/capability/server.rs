//! The object's side of a capability: calls served on a handler until the holder lets go.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::future::{AbortHandle, Aborted, abortable};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};

use super::message::{FromObject, ToObject};
use super::{Capability, Handle};
use crate::error::IpcError;
use crate::port::Port;
use crate::util::lock;

/// How many calls one handle may have running on its object at once; past it a call is
/// answered `too_many_in_flight` (the port's window bounds what waits to be read, this what
/// runs).
const MAX_CALLS_IN_FLIGHT: usize = 256;

/// What the generated code gives [`serve`]: runs one call on the handler and gives its reply.
pub type Dispatch<C, H> = fn(
    Arc<H>,
    <C as Capability>::Call,
) -> Pin<Box<dyn Future<Output = <C as Capability>::Reply> + Send>>;

/// Serves `handler` as an object of capability `C`: returns the handle to give out (in a result,
/// an argument, an event) and the owner's [`Revoker`]. The object lives until the handle's holder
/// drops it, closes its connection or dies, or the owner revokes it; then calls in flight are
/// dropped (their handler futures with them) and so is `handler`.
///
/// Generated code calls it (`{Trait}::serve`, `{Trait}::serve_revocable`); it needs a Tokio
/// runtime.
pub fn serve<C: Capability, H: Send + Sync + 'static>(
    handler: H,
    dispatch: Dispatch<C, H>,
) -> (Handle<C>, Revoker) {
    let (object, holder) = Port::<FromObject<C::Reply>, ToObject<C::Call>>::pair();
    let revoker = Revoker {
        port: Arc::new(Mutex::new(Some(Box::new(object.clone())))),
        capability: C::NAME,
    };
    tokio::spawn(run::<C, H>(object, Arc::new(handler), dispatch));
    (Handle::from_port(holder), revoker)
}

/// One call running on the object, with its id: its reply, the panic it ended with, or
/// `Aborted` when the holder cancelled it.
type Running<R> =
    Pin<Box<dyn Future<Output = (u64, Result<std::thread::Result<R>, Aborted>)> + Send>>;

async fn run<C: Capability, H: Send + Sync + 'static>(
    port: Port<FromObject<C::Reply>, ToObject<C::Call>>,
    handler: Arc<H>,
    dispatch: Dispatch<C, H>,
) {
    // The calls running, polled here (no task per call): each can be dropped by its id.
    let mut running: FuturesUnordered<Running<C::Reply>> = FuturesUnordered::new();
    let mut cancels: HashMap<u64, AbortHandle> = HashMap::new();
    loop {
        let message = tokio::select! {
            // `None` also when the owner revokes: closing this end wakes its reader.
            message = port.recv() => message,
            Some((id, outcome)) = running.next(), if !running.is_empty() => {
                cancels.remove(&id);
                let answer = match outcome {
                    // Dropped on the holder's `cancel`: nobody waits for an answer.
                    Err(Aborted) => continue,
                    Ok(Ok(reply)) => FromObject::Reply { id, reply },
                    Ok(Err(panic)) => {
                        let message = crate::util::panic_message(&*panic);
                        tracing::error!(capability = C::NAME, %message, "a capability's handler panicked");
                        let error = IpcError::HandlerPanicked {
                            channel: C::NAME.to_string(),
                            message,
                        };
                        FromObject::Error { id, error: Box::new((&error).into()) }
                    }
                };
                // Within the holder's window; while it is full, no new call is read either
                // (the holder reads answers on a task of its own, so the window moves).
                if port.send(answer).await.is_err() {
                    break;
                }
                continue;
            }
        };
        let Some(message) = message else {
            break;
        };
        let message = match message {
            Ok(message) => message,
            // A message that does not decode: the holder speaks another version of the
            // contract, or is hostile. It cannot be answered (its id is unknown): end the object.
            Err(error) => {
                tracing::warn!(capability = C::NAME, %error, "a capability call did not decode; the handle is closed");
                port.close_with(error);
                break;
            }
        };
        match message {
            ToObject::Call { id, call } => {
                let refusal = if cancels.contains_key(&id) {
                    Some(IpcError::Protocol {
                        reason: format!("call id {id} is already in flight on this handle"),
                    })
                } else if cancels.len() >= MAX_CALLS_IN_FLIGHT {
                    Some(IpcError::TooManyInFlight {
                        limit: MAX_CALLS_IN_FLIGHT,
                    })
                } else {
                    None
                };
                if let Some(error) = refusal {
                    let refused = FromObject::Error {
                        id,
                        error: Box::new((&error).into()),
                    };
                    if port.send(refused).await.is_err() {
                        break;
                    }
                    continue;
                }
                let (call, cancel) =
                    abortable(AssertUnwindSafe(dispatch(handler.clone(), call)).catch_unwind());
                cancels.insert(id, cancel);
                running.push(Box::pin(call.map(move |outcome| (id, outcome))));
            }
            ToObject::Cancel { id } => {
                if let Some(cancel) = cancels.remove(&id) {
                    cancel.abort();
                }
            }
        }
    }
    // Released (or revoked): the calls still running are dropped here, with `running`, and the
    // handler with the last of them.
}

/// The owner's power over an object it served ([`serve`]): [`Revoker::revoke`] ends it, and every
/// later call through its handle (wherever the handle went) fails with [`IpcError::Revoked`].
///
/// Dropping the revoker does not revoke: the object then lives as long as its handle.
///
/// # Examples
///
/// The generated `{Trait}::serve_revocable` gives one; see the `ipc-runtime` crate's
/// "Capabilities" section.
#[derive(Clone)]
pub struct Revoker {
    port: Arc<Mutex<Option<Box<dyn Revocable>>>>,
    capability: &'static str,
}

/// The object's end of its port, whatever the capability's message types.
trait Revocable: Send {
    fn close_with(&self, error: IpcError);
    fn is_closed(&self) -> bool;
}

impl<Out: Send + 'static, In: Send + 'static> Revocable for Port<Out, In> {
    fn close_with(&self, error: IpcError) {
        Port::close_with(self, error);
    }

    fn is_closed(&self) -> bool {
        Port::is_closed(self)
    }
}

impl Revoker {
    /// Revokes the object: calls in flight and later calls through its handle fail with
    /// [`IpcError::Revoked`] carrying `reason`, and the object is dropped. Revoking twice does
    /// nothing more.
    pub fn revoke(&self, reason: impl Into<String>) {
        if let Some(port) = lock(&self.port).take() {
            port.close_with(IpcError::Revoked {
                capability: self.capability.to_string(),
                reason: reason.into(),
            });
        }
    }

    /// Whether [`Revoker::revoke`] was called.
    pub fn is_revoked(&self) -> bool {
        lock(&self.port).is_none()
    }

    /// Whether the object is gone: revoked, or released by its holder (an owner that keeps
    /// revokers can drop the ones whose object is gone).
    pub fn is_closed(&self) -> bool {
        lock(&self.port)
            .as_ref()
            .is_none_or(|port| port.is_closed())
    }
}

impl std::fmt::Debug for Revoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revoker")
            .field("capability", &self.capability)
            .field("revoked", &self.is_revoked())
            .finish()
    }
}
