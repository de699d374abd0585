//! The object's side of a capability: calls served on a handler until the holder lets go.
//!
//! A call starts where the holder's message arrives ([`Direct`]): in the task reading the
//! connection of a holder in another process, in the holder's own task (outside the port's
//! locks) for a holder in this one. Most are answered there, at their first poll, as main answers
//! an invoke. A call that must wait, and every message that cannot be taken at once (one queued
//! ahead of it, or an answer still waiting for the holder's room), goes to the object's own task,
//! which polls the calls that wait, sends the answers that wait for room, and reads the rest in
//! order.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};

use futures_util::future::{AbortHandle, Aborted, abortable};
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use futures_util::{FutureExt, StreamExt};

use super::message::{Arrived, FromObject, ToObject};
use super::policy::ObjectRules;
use super::{Capability, Handle};
use crate::error::IpcError;
use crate::port::{Direct, Port};
use crate::util::lock;
use crate::util::peer_ids::PeerIds;
use crate::wire::Payload;

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
    let (port, holder) = Port::<FromObject<C::Reply>, ToObject<C::Call>>::pair();
    let revoker = Revoker {
        port: Arc::new(Mutex::new(Some(Box::new(port.clone())))),
        capability: C::NAME,
    };
    let object = Arc::new(Object::<C, H> {
        port,
        handler: Arc::new(handler),
        dispatch,
        rules: ObjectRules::of::<C>(),
        calls: Mutex::new(Calls {
            cancels: HashMap::default(),
            started: 0,
            adopted: Vec::new(),
            parked: Vec::new(),
        }),
        answers_wait: AtomicBool::new(false),
        waiting: AtomicUsize::new(0),
        task: AtomicWaker::new(),
    });
    object
        .port
        .take_directly(Arc::new(Reader::<C, H>(Arc::downgrade(&object))));
    tokio::spawn(run(object));
    (Handle::from_port(holder), revoker)
}

/// What the object's task sends next.
enum ToSend<R> {
    /// The answer (if any) to a message read, or to a call that waited.
    One(Option<FromObject<R>>),
    /// Answers parked for want of room (see `Calls::parked`), in order.
    Parked(Vec<Payload>),
}

/// What woke the object's task besides a message of the holder's.
enum Woke<R> {
    /// A call that waited ended.
    Finished(Started, Outcome<R>),
    /// Answers were parked for want of room (see `Calls::parked`).
    Parked(Vec<Payload>),
}

/// One call running on the object: its id and start number, and its reply, the panic it ended
/// with, or `Aborted` when the holder cancelled it.
type Running<R> = Pin<Box<dyn Future<Output = (Started, Outcome<R>)> + Send>>;

type Outcome<R> = Result<std::thread::Result<R>, Aborted>;

/// A call's id (the holder's) and its number among the calls this object started: an id can be
/// used again once its call was cancelled, and only the call's own entry may be removed when it
/// ends.
#[derive(Clone, Copy)]
struct Started {
    id: u64,
    number: u64,
}

/// One served object: shared by its task and the connection reader starting its calls.
struct Object<C: Capability, H> {
    port: Port<FromObject<C::Reply>, ToObject<C::Call>>,
    handler: Arc<H>,
    dispatch: Dispatch<C, H>,
    /// The capability's declared policy (`None`: it declares none), checked per call against
    /// the handle's holder.
    rules: Option<Arc<ObjectRules>>,
    calls: Mutex<Calls<C::Reply>>,
    /// An answer is parked (see `Calls::parked`): until the task sent it, the holder's messages
    /// are not taken where they arrive but queued, so that its window holds its calls back.
    answers_wait: AtomicBool,
    /// How many calls wait (`Calls::cancels`, kept in step under its lock): read without the
    /// lock by a call that starts.
    waiting: AtomicUsize,
    /// The object's task, woken when a call that must wait, or an answer, is handed to it.
    task: AtomicWaker,
}

struct Calls<R> {
    /// The calls started and not answered, by id (with their start number): how the holder's
    /// cancel reaches each, and what the limit counts.
    cancels: HashMap<u64, (u64, AbortHandle), PeerIds>,
    /// Calls started so far.
    started: u64,
    /// Calls started by the connection reader that must wait: the task polls them from now on.
    adopted: Vec<Running<R>>,
    /// Answers made where their call arrived that found no room in the holder's window: the
    /// task sends them once there is.
    parked: Vec<Payload>,
}

impl<C: Capability, H: Send + Sync + 'static> Object<C, H> {
    /// Acts on one message of the holder's as it arrived: see [`Object::accept`].
    ///
    /// # Errors
    ///
    /// The protocol error to close the handle with, for a message that does not decode (its
    /// call, if it is one, cannot be answered: its id is unknown).
    fn read(&self, message: Payload) -> Result<Option<FromObject<C::Reply>>, IpcError> {
        // Judged as the holder is now: a grant changed since the handle was handed over
        // applies to the next call.
        let admit = |method: &str| match &self.rules {
            Some(rules) => rules.admit(method, self.port.holder().as_deref()),
            None => Ok(()),
        };
        match super::message::to_object::<C>(message, admit) {
            Ok(message) => Ok(self.accept(message)),
            Err(reason) => Err(IpcError::Protocol {
                reason: format!("a port message did not decode: {reason}"),
            }),
        }
    }

    /// Acts on one message of the holder's: starts a call (polling it once) or cancels one.
    /// Returns the answer to send now: a refusal, or the reply of a call done at its first poll.
    /// A call that must wait goes to the task's `adopted`.
    fn accept(&self, message: Arrived<C::Call>) -> Option<FromObject<C::Reply>> {
        let (id, call) = match message {
            Arrived::Call { id, call } => (id, call),
            Arrived::Refused { id, error } => return Some(FromObject::failed(id, &error)),
            Arrived::Cancel { id } => {
                let mut calls = lock(&self.calls);
                if let Some((_, cancel)) = calls.cancels.remove(&id) {
                    self.waiting.store(calls.cancels.len(), Ordering::Release);
                    cancel.abort();
                }
                return None;
            }
        };
        // No call waits, the usual case: no repeated id nor the limit to check. A holder across
        // a connection has its messages read one at a time, so none is being registered
        // meanwhile; holders in this process may start calls on several threads at once, but
        // number them from one counter (and the limit may be passed by one call per thread).
        if self.waiting.load(Ordering::Acquire) > 0 {
            let calls = lock(&self.calls);
            let refusal = if calls.cancels.contains_key(&id) {
                Some(IpcError::Protocol {
                    reason: format!("call id {id} is already in flight on this handle"),
                })
            } else if calls.cancels.len() >= MAX_CALLS_IN_FLIGHT {
                Some(IpcError::TooManyInFlight {
                    limit: MAX_CALLS_IN_FLIGHT,
                })
            } else {
                None
            };
            if let Some(error) = refusal {
                return Some(FromObject::failed(id, &error));
            }
        }
        let mut call = AssertUnwindSafe((self.dispatch)(self.handler.clone(), call)).catch_unwind();
        // Most handlers finish at their first poll: make it here (outside the lock: the handler
        // may call through handles, this one included) and answer at once, with nothing
        // registered for the call (no cancel can reach it meanwhile: this poll is the reading of
        // the holder's messages). One that waits is registered (its cancel, its place in the
        // limit) and handed to the task, which polls it again with its real waker.
        match Pin::new(&mut call).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(outcome) => self.answer(id, Ok(outcome)),
            Poll::Pending => {
                let (call, cancel) = abortable(call);
                let mut calls = lock(&self.calls);
                calls.started += 1;
                let started = Started {
                    id,
                    number: calls.started,
                };
                calls.cancels.insert(id, (started.number, cancel));
                self.waiting.store(calls.cancels.len(), Ordering::Release);
                calls
                    .adopted
                    .push(Box::pin(call.map(move |outcome| (started, outcome))));
                drop(calls);
                self.task.wake();
                None
            }
        }
    }

    /// A call ended with `outcome`: the answer to send, if the holder still waits for one.
    fn finished(
        &self,
        started: Started,
        outcome: Outcome<C::Reply>,
    ) -> Option<FromObject<C::Reply>> {
        let id = started.id;
        {
            // Its own entry only: a cancel removed it already, and a later call may have taken
            // the id since.
            let mut calls = lock(&self.calls);
            if calls
                .cancels
                .get(&id)
                .is_some_and(|(number, _)| *number == started.number)
            {
                calls.cancels.remove(&id);
                self.waiting.store(calls.cancels.len(), Ordering::Release);
            }
        }
        self.answer(id, outcome)
    }

    /// The answer to call `id` that ended with `outcome`, if the holder still waits for one.
    fn answer(&self, id: u64, outcome: Outcome<C::Reply>) -> Option<FromObject<C::Reply>> {
        match outcome {
            // Dropped on the holder's `cancel`: nobody waits for an answer.
            Err(Aborted) => None,
            Ok(Ok(reply)) => Some(FromObject::Reply { id, reply }),
            Ok(Err(panic)) => {
                let message = crate::util::panic_message(&*panic);
                tracing::error!(capability = C::NAME, %message, "a capability's handler panicked");
                let error = IpcError::HandlerPanicked {
                    channel: C::NAME.to_string(),
                    message,
                };
                Some(FromObject::failed(id, &error))
            }
        }
    }

    /// Moves the calls the reader handed over into `running`, and registers the task's waker
    /// for the next ones.
    /// The parked answers, if any, are returned (the task sends them first).
    fn adopt(
        &self,
        cx: &mut Context<'_>,
        running: &mut FuturesUnordered<Running<C::Reply>>,
    ) -> Option<Vec<Payload>> {
        self.task.register(cx.waker());
        let mut calls = lock(&self.calls);
        running.extend(calls.adopted.drain(..));
        (!calls.parked.is_empty()).then(|| std::mem::take(&mut calls.parked))
    }
}

/// What the holder's messages are offered to as they arrive (holding the object weakly: the
/// inbox it is installed in belongs to the object).
struct Reader<C: Capability, H>(Weak<Object<C, H>>);

/// How deep calls started in their caller's task may nest on one thread (an object's handler
/// calling another object in this process, which calls another...): past it a call goes to its
/// object's task, whose stack is its own, rather than deeper into this one.
const MAX_NESTED_STARTS: u32 = 32;

thread_local! {
    static NESTED_STARTS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// One call being started on this thread's stack, counted while it lives.
struct Nested;

impl Nested {
    fn enter() -> Option<Nested> {
        let depth = NESTED_STARTS.get();
        (depth < MAX_NESTED_STARTS).then(|| {
            NESTED_STARTS.set(depth + 1);
            Nested
        })
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        NESTED_STARTS.set(NESTED_STARTS.get() - 1);
    }
}

impl<C: Capability, H: Send + Sync + 'static> Direct for Reader<C, H> {
    fn offer(&self, message: Payload) -> Result<(), Payload> {
        let Some(_nested) = Nested::enter() else {
            return Err(message);
        };
        // Not taken while an answer waits for the holder's room: the task reads it in order
        // once that answer went, and the holder's window holds back what follows.
        let Some(object) = self
            .0
            .upgrade()
            .filter(|object| !object.answers_wait.load(Ordering::Acquire))
        else {
            return Err(message);
        };
        match object.read(message) {
            Ok(Some(answer)) => object.answer_now(answer),
            Ok(None) => {}
            Err(error) => object.undecodable(error),
        }
        Ok(())
    }
}

impl<C: Capability, H> Object<C, H> {
    /// Sends `answer` where its call arrived, when the holder has room for it (one look at the
    /// port, no wait); otherwise parks it for the task, which sends it once there is room.
    fn answer_now(&self, answer: FromObject<C::Reply>) {
        if let Err(answer) = self.port.try_push_payload(Payload::written_by_hand(answer)) {
            let mut calls = lock(&self.calls);
            calls.parked.push(answer);
            // Under the lock `unpark` clears it under: set after the task took and sent the
            // answer (room made on another thread), it would stay set with nothing parked.
            self.answers_wait.store(true, Ordering::Release);
            drop(calls);
            self.task.wake();
        }
    }

    /// The parked answers went: the holder's messages are taken where they arrive again, unless
    /// another was parked meanwhile.
    fn unpark(&self) {
        let calls = lock(&self.calls);
        if calls.parked.is_empty() {
            self.answers_wait.store(false, Ordering::Release);
        }
    }

    /// A message that does not decode: the holder speaks another version of the contract, or is
    /// hostile. It cannot be answered (its id is unknown): the object ends.
    fn undecodable(&self, error: IpcError) {
        tracing::warn!(capability = C::NAME, %error, "a capability call did not decode; the handle is closed");
        self.port.close_with(error);
    }
}

async fn run<C: Capability, H: Send + Sync + 'static>(object: Arc<Object<C, H>>) {
    // The calls that wait, polled here (no task per call): each can be dropped by its id.
    let mut running: FuturesUnordered<Running<C::Reply>> = FuturesUnordered::new();
    loop {
        let next = tokio::select! {
            // Answers that wait for room go before any other message is read (the holder's
            // window holds its calls back while they wait), and calls that ended before new
            // ones start.
            biased;
            woke = poll_fn(|cx| {
                if let Some(parked) = object.adopt(cx, &mut running) {
                    return Poll::Ready(Woke::Parked(parked));
                }
                match running.poll_next_unpin(cx) {
                    Poll::Ready(Some((started, outcome))) => {
                        Poll::Ready(Woke::Finished(started, outcome))
                    }
                    _ => Poll::Pending,
                }
            }) => match woke {
                Woke::Finished(started, outcome) => ToSend::One(object.finished(started, outcome)),
                Woke::Parked(parked) => ToSend::Parked(parked),
            },
            // `None` also when the owner revokes: closing this end wakes its reader.
            message = poll_fn(|cx| object.port.poll_recv_payload(cx)) => match message {
                None => break,
                Some(Ok(message)) => match object.read(message) {
                    Ok(answer) => ToSend::One(answer),
                    Err(error) => {
                        object.undecodable(error);
                        break;
                    }
                },
                // The port closed with a fault of the connection's (already said there).
                Some(Err(_)) => break,
            },
        };
        // Within the holder's window; while it is full, no new call is read either (the holder
        // reads answers as they come, so the window moves).
        match next {
            ToSend::One(None) => {}
            ToSend::One(Some(answer)) => {
                let answer = Payload::written_by_hand(answer);
                if object.port.send_payload(answer).await.is_err() {
                    return;
                }
            }
            ToSend::Parked(parked) => {
                for answer in parked {
                    if object.port.send_payload(answer).await.is_err() {
                        return;
                    }
                }
                object.unpark();
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
