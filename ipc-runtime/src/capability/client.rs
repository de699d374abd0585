//! The holder's side of a capability: [`Handle`] and its calls.

use std::collections::HashMap;
use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Capability;
use super::message::{FromObject, ToObject};
use crate::error::{CallError, IpcError};
use crate::limits::DEFAULT_CALL_TIMEOUT;
use crate::port::{Direct, Port};
use crate::util::deadline::WakePlan;
use crate::util::own_ids::OwnIds;
use crate::util::{alarm, lock};
use crate::wire::{Payload, msgpack};

/// A handle to one object of capability `C` on the other side (`docs/PROTOCOL.md` §7.3): call
/// its methods through `C`'s typed client ([`Handle::client`]).
///
/// A method of any contract may return or take one (`-> Handle<FileHandle>`): it travels as a
/// port does, to one holder at a time. Clones share the handle; when the last clone is dropped
/// the object on the other side is released (its owner's handler dropped). A holder that
/// disconnects or dies releases every handle it held.
///
/// # Examples
///
/// See the `ipc-runtime` crate's "Capabilities" section: `#[channels(capability)]` generates the
/// serving side (`{Trait}::serve`) and the client (`{Trait}Client`).
pub struct Handle<C: Capability> {
    inner: Arc<Inner<C>>,
}

struct Inner<C: Capability> {
    port: Port<ToObject<C::Call>, FromObject<C::Reply>>,
    /// The object is across a connection (the port's target when the handle was made): its
    /// answers never come within the send, so a call readies itself to wait before it sends.
    remote: bool,
    next_id: AtomicU64,
    calls: Mutex<Calls<C::Reply>>,
    /// Wakes the sweeper that fails this handle's calls past their deadline: one task, started
    /// at the first call that has to wait, rather than a Tokio timer per call (arming one wakes
    /// a parked worker, the largest single cost of a small call). The deadlines themselves sit
    /// in the calls' slots, as a plain call's sit in its reply slot (`renderer/pending.rs`).
    sweeper: OnceLock<Arc<Notify>>,
    /// Stops the sweeper when the handle goes.
    gone: CancellationToken,
}

/// The calls waiting for their answer. Answers are handed to their call where they arrive
/// ([`Answers`], in the task reading the connection), waking that call alone. What the port
/// queues instead (an answer that came while the inbox was busy) and its close are read by
/// whichever waiting call is polled, which hands each answer to its call.
struct Calls<R> {
    waiting: HashMap<u64, Slot<R>, OwnIds>,
    /// The call whose task the port wakes when an answer arrives (the last to find nothing
    /// there): when it stops waiting, another waiting call must read on.
    reader: Option<u64>,
    /// Why the handle is closed, once it is: later calls fail with it.
    closed: Option<IpcError>,
    /// The deadlines of the calls that have to wait (most are answered before they would need
    /// one): their method's wire name, their timeout, and when it passes. Apart from the slots,
    /// so that a call answered at once moves no more than it needs.
    deadlines: HashMap<u64, (&'static str, Duration, Instant), OwnIds>,
    /// When the sweeper wakes next.
    wake: WakePlan<Instant>,
}

/// One call waiting: its answer once read, and the task to wake when another call reads it.
struct Slot<R> {
    answer: Option<Answer<R>>,
    waker: Option<Waker>,
}

impl<R> Slot<R> {
    /// Puts `answer` in the slot and wakes the call.
    fn fill(&mut self, answer: Answer<R>) {
        self.answer = Some(answer);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// A call's answer as it was handed over.
enum Answer<R> {
    /// Read (an answer in this process, one read from the port's queue, a failure).
    Read(Result<R, IpcError>),
    /// As it came over the connection, sorted to its call by its id alone: the call reads it
    /// in its own task, as a plain call reads its reply, so that the task reading the
    /// connection does not decode the answers of every caller of the handle.
    Bytes(Payload),
}

impl<R> Calls<R> {
    /// Call `id` no longer waits: its slot and its deadline go. Whether it was waiting.
    fn forget(&mut self, id: u64) -> bool {
        let waiting = self.waiting.remove(&id).is_some();
        // Most calls never had to wait for long enough to need a deadline.
        if waiting && !self.deadlines.is_empty() {
            self.deadlines.remove(&id);
        }
        waiting
    }

    /// Hands an answer to call `id` (if it still waits), waking it.
    fn deliver(&mut self, id: u64, answer: Answer<R>) {
        if let Some(slot) = self.waiting.get_mut(&id) {
            slot.fill(answer);
        }
    }

    /// Hands an answer's bytes to call `id`, or gives them back when no such call waits.
    fn deliver_bytes(&mut self, id: u64, bytes: Payload) -> Result<(), Payload> {
        match self.waiting.get_mut(&id) {
            Some(slot) => {
                slot.fill(Answer::Bytes(bytes));
                Ok(())
            }
            None => Err(bytes),
        }
    }

    /// The handle closed (`error`, unless it was closed already): every waiting call fails.
    fn close(&mut self, error: IpcError) {
        let error = self.closed.get_or_insert(error).clone();
        for slot in self.waiting.values_mut() {
            if slot.answer.is_none() {
                slot.answer = Some(Answer::Read(Err(error.clone())));
            }
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }

    /// Call `id` stops waiting: if the port would have woken its task (or no task is the
    /// port's reader: `id` read without waiting), another waiting call is woken to read on.
    fn hand_off(&mut self, id: u64) {
        if self.reader.is_some_and(|reader| reader != id) {
            return;
        }
        self.reader = None;
        if let Some(waker) = self
            .waiting
            .values_mut()
            .find(|slot| slot.answer.is_none() && slot.waker.is_some())
            .and_then(|slot| slot.waker.take())
        {
            waker.wake();
        }
    }
}

impl<C: Capability> Drop for Inner<C> {
    fn drop(&mut self) {
        // The last holder let go: the object is released.
        self.port.close();
        self.gone.cancel();
    }
}

impl<C: Capability> Inner<C> {
    /// Fails call `id` (of `method`) with `Timeout` once `limit` from now has passed, unless it
    /// has its answer by then.
    fn arm_deadline(self: &Arc<Self>, id: u64, method: &'static str, limit: Duration) {
        let wake_sweeper = Self::note_deadline(&mut lock(&self.calls), id, method, limit);
        self.wake_sweeper(wake_sweeper);
    }

    /// Notes call `id`'s deadline (if it still waits); whether the sweeper must be woken for it
    /// ([`Inner::wake_sweeper`], once the lock is let go).
    fn note_deadline(
        calls: &mut Calls<C::Reply>,
        id: u64,
        method: &'static str,
        limit: Duration,
    ) -> bool {
        let at = Instant::now() + limit;
        match calls.waiting.get_mut(&id) {
            Some(slot) if slot.answer.is_none() => {
                calls.deadlines.insert(id, (method, limit, at));
                calls.wake.note(at, limit)
            }
            _ => false,
        }
    }

    /// Starts the sweeper if it is not running, and wakes it when `wake` (a deadline earlier
    /// than it sleeps to).
    fn wake_sweeper(self: &Arc<Self>, wake: bool) {
        let sweeper = self.sweeper.get_or_init(|| {
            let wake = Arc::new(Notify::new());
            let sweep = sweep(Arc::downgrade(self), wake.clone());
            let gone = self.gone.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = sweep => {}
                    () = gone.cancelled() => {}
                }
            });
            wake
        });
        if wake {
            sweeper.notify_one();
        }
    }

    /// Fails the calls whose deadline passed by `now`; when the sweeper is to look again.
    fn expire(&self, now: Instant) -> Option<Instant> {
        let mut calls = lock(&self.calls);
        let Calls {
            waiting,
            deadlines,
            wake,
            ..
        } = &mut *calls;
        let mut earliest: Option<Instant> = None;
        deadlines.retain(|id, &mut (method, limit, at)| {
            let Some(slot) = waiting.get_mut(id).filter(|slot| slot.answer.is_none()) else {
                return false;
            };
            if at > now {
                earliest = Some(earliest.map_or(at, |earliest| earliest.min(at)));
                return true;
            }
            slot.fill(Answer::Read(Err(IpcError::Timeout {
                channel: format!("{}:{method}", C::NAME),
                after: limit,
            })));
            false
        });
        wake.arm(earliest, now)
    }
}

/// A handle's sweeper: fails its calls past their deadline, sleeping until the earliest (on the
/// alarm thread, as a renderer's sweeper does: real time, no Tokio timer). Holds the handle
/// only while it looks, so dropping the last clone still releases the object.
async fn sweep<C: Capability>(inner: Weak<Inner<C>>, wake: Arc<Notify>) {
    alarm::sweep(&wake, |now| inner.upgrade().map(|inner| inner.expire(now))).await;
}

/// Takes the object's answers as they arrive (in the task reading the connection, or the
/// object's own), handing each to its call and waking that call alone.
struct Answers<C: Capability>(Weak<Inner<C>>);

impl<C: Capability> Direct for Answers<C> {
    fn offer(&self, message: Payload) -> Result<(), Payload> {
        let Some(inner) = self.0.upgrade() else {
            return Err(message);
        };
        let sorted = message
            .messagepack()
            .and_then(|bytes| msgpack::tagged_map(bytes, b"reply"));
        let message = match sorted {
            Some((id, _)) => match lock(&inner.calls).deliver_bytes(id, message) {
                Ok(()) => return Ok(()),
                // Nobody waits for it (a cancelled call's answer): read here all the same, so
                // that one that does not decode still closes the handle.
                Err(message) => message,
            },
            None => message,
        };
        match super::message::from_object::<C>(message) {
            Ok(FromObject::Reply { id, reply }) => {
                lock(&inner.calls).deliver(id, Answer::Read(Ok(reply)));
            }
            Ok(FromObject::Error { id, error }) => {
                lock(&inner.calls).deliver(id, Answer::Read(Err((*error).into())));
            }
            // An answer that does not decode: the object speaks another version, or is hostile.
            Err(reason) => {
                inner.port.close();
                lock(&inner.calls).close(IpcError::Protocol {
                    reason: format!("a port message did not decode: {reason}"),
                });
            }
        }
        Ok(())
    }
}

impl<C: Capability> Handle<C> {
    pub(crate) fn from_port(port: Port<ToObject<C::Call>, FromObject<C::Reply>>) -> Self {
        // Ids start at a random point: an answer to a call of an earlier holder (cancelled
        // before the handle moved) finds no call of this holder's under its id. Below 2^53, so
        // that an object a JavaScript page serves reads them exactly (as numbers).
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        let first = (u64::from_le_bytes(seed) >> 12).max(1);
        let remote = port.is_remote();
        let handle = Handle {
            inner: Arc::new(Inner {
                port,
                remote,
                next_id: AtomicU64::new(first),
                calls: Mutex::new(Calls {
                    waiting: HashMap::default(),
                    reader: None,
                    closed: None,
                    deadlines: HashMap::default(),
                    wake: WakePlan::new(),
                }),
                sweeper: OnceLock::new(),
                gone: CancellationToken::new(),
            }),
        };
        handle
            .inner
            .port
            .take_directly(Arc::new(Answers(Arc::downgrade(&handle.inner))));
        handle
    }

    /// The typed client of this handle (`{Trait}Client`): one method per method of `C`.
    pub fn client(self) -> C::Client {
        C::Client::from(self)
    }

    /// Whether the handle no longer reaches its object: released, revoked, sent away, or its
    /// connection gone.
    pub fn is_closed(&self) -> bool {
        self.inner.port.is_closed()
    }

    /// Releases the object now (as dropping the last clone would): calls in flight and later
    /// ones fail with `disconnected`.
    pub fn release(&self) {
        self.let_go("released");
        self.inner.port.close();
    }

    /// This side no longer reaches the object (`how`: released, handed over): later calls fail
    /// at once. (A waiting call, woken as the end closes, fails the calls still waiting.)
    fn let_go(&self, how: &str) {
        lock(&self.inner.calls).closed.get_or_insert_with(|| {
            IpcError::disconnected(format!("the handle to `{}` was {how}", C::NAME))
        });
    }

    /// A call of method `method` (its wire name) with `call`; `pick` takes the method's outcome
    /// out of the reply. Generated clients call it.
    #[doc(hidden)]
    pub fn call<T, E>(
        &self,
        method: &'static str,
        call: C::Call,
        pick: fn(C::Reply) -> Option<Result<T, E>>,
    ) -> HandleCall<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let handle = self.clone();
        HandleCall {
            start: Box::new(move |timeout| Box::pin(handle.run(method, call, pick, timeout))),
            timeout: Some(DEFAULT_CALL_TIMEOUT),
            types: PhantomData,
        }
    }

    async fn run<T, E>(
        self,
        method: &'static str,
        call: C::Call,
        pick: fn(C::Reply) -> Option<Result<T, E>>,
        timeout: Option<Duration>,
    ) -> Result<T, CallError<E>> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        // Over a connection, while another call reads the port (it is woken by what arrives
        // and hands the close over), a call readies itself to wait in the same look as it
        // registers: its waker and its deadline go into its slot now, and it does not look for
        // its answer until woken (one look at the handle's calls instead of three, where 64
        // callers of one handle meet). In this process the object mostly answers within the
        // send, so the call looks right after it, and arms its deadline only if it must wait.
        let (among_others, readied) = poll_fn(|cx| {
            let mut calls = lock(&self.inner.calls);
            if let Some(error) = &calls.closed {
                return Poll::Ready(Err(CallError::Ipc(error.clone())));
            }
            let readied = self.inner.remote && calls.reader.is_some();
            calls.waiting.insert(
                id,
                Slot {
                    answer: None,
                    waker: readied.then(|| cx.waker().clone()),
                },
            );
            let wake_sweeper = match timeout {
                Some(limit) if readied => Inner::<C>::note_deadline(&mut calls, id, method, limit),
                _ => false,
            };
            let among_others = calls.waiting.len() > 1;
            drop(calls);
            if wake_sweeper {
                self.inner.wake_sweeper(true);
            }
            Poll::Ready(Ok((among_others, readied)))
        })
        .await?;
        // Dropped before the answer (the caller gave up, or the deadline passed): the object
        // drops the handler's future.
        let guard = CancelOnDrop {
            inner: &self.inner,
            id,
            finished: None,
        };
        // The deadline covers the send too (an object that grants no room). A send that fails
        // (the handle closed meanwhile) is answered as the port is read to its end, with why
        // the handle closed (`Revoked`, released, handed over).
        //
        // While the call waits to go (the object's window is full), it reads answers too: the
        // object answers only within this side's credit and reads no new call while an answer
        // waits, so a holder whose every waiting call were sending would never read again.
        let mut message = Some(Payload::written_by_hand(ToObject::<C::Call>::Call {
            id,
            call,
        }));
        let mut skip_look = readied;
        let mut exchange = std::pin::pin!(poll_fn(|cx| {
            if message.is_some() {
                // With other calls of this handle under way, its frame may share a write with
                // theirs, as a plain call among others does (alone, it is written at once).
                let sent = if among_others {
                    crate::port::among_others(|| self.inner.port.poll_send(cx, &mut message))
                } else {
                    self.inner.port.poll_send(cx, &mut message)
                };
                if let Poll::Ready(Err(_)) = sent {
                    message = None;
                    skip_look = false;
                }
            }
            // Readied: its slot wakes it when the answer (or the close) comes.
            if std::mem::take(&mut skip_look) {
                return Poll::Pending;
            }
            self.poll_answer(id, cx)
        }));
        // An object in this process that answers at once has answered by the end of the first
        // poll: the deadline is armed only for a call that waits (for most, it would be pure
        // cost: a sweeper entry made and removed, and a clock read).
        // A readied call has its deadline already, and waits to be woken after its send.
        let outcome = if readied {
            exchange.await
        } else {
            let first = poll_fn(|cx| Poll::Ready(exchange.as_mut().poll(cx))).await;
            match first {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => {
                    // The sweeper puts `Timeout` in the call's slot and wakes it.
                    if let Some(limit) = timeout {
                        self.inner.arm_deadline(id, method, limit);
                    }
                    exchange.await
                }
            }
        };
        let mut guard = guard;
        // Whatever the outcome, `poll_answer` took the call's slot with it: only a call that
        // timed out still has its handler running on the object's side.
        guard.finished = Some(matches!(outcome, Err(IpcError::Timeout { .. })));
        drop(guard);
        match outcome {
            Ok(reply) => match pick(reply) {
                Some(Ok(value)) => Ok(value),
                Some(Err(error)) => Err(CallError::App(error)),
                None => Err(CallError::Ipc(IpcError::BadReply {
                    channel: format!("{}:{method}", C::NAME),
                    reason: "the reply is another method's".into(),
                })),
            },
            Err(error) => Err(CallError::Ipc(error)),
        }
    }

    /// Call `id`'s answer: taken from its slot if another call read it, else read from the
    /// port (handing the answers of other calls to them) until it comes.
    fn poll_answer(&self, id: u64, cx: &mut Context<'_>) -> Poll<Result<C::Reply, IpcError>> {
        let mut calls = lock(&self.inner.calls);
        loop {
            let reader = calls.reader;
            let Some(slot) = calls.waiting.get_mut(&id) else {
                return Poll::Ready(Err(self.closed_error(&calls)));
            };
            if let Some(answer) = slot.answer.take() {
                calls.forget(id);
                calls.hand_off(id);
                return Poll::Ready(match answer {
                    Answer::Read(answer) => answer,
                    Answer::Bytes(bytes) => {
                        drop(calls);
                        self.read_answer(bytes)
                    }
                });
            }
            if reader.is_some_and(|reader| reader != id) {
                // Another call reads the port (it is woken when answers arrive, and hands this
                // one's over): only wait to be woken.
                slot.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            // This call reads now: its own answer must not wake it (a spurious wake-up per call).
            // (Registered again below before it waits, under the same lock, so an answer handed
            // over where it arrives still wakes it.)
            slot.waker = None;
            match self.inner.port.poll_recv(cx) {
                Poll::Ready(Some(Ok(FromObject::Reply { id, reply }))) => {
                    calls.deliver(id, Answer::Read(Ok(reply)));
                }
                Poll::Ready(Some(Ok(FromObject::Error { id, error }))) => {
                    calls.deliver(id, Answer::Read(Err((*error).into())));
                }
                // An answer that does not decode, or the error the object closed with (revoked).
                Poll::Ready(Some(Err(error))) => {
                    if !matches!(error, IpcError::Revoked { .. }) {
                        self.inner.port.close();
                    }
                    calls.close(error);
                }
                Poll::Ready(None) => {
                    calls.close(IpcError::disconnected(format!(
                        "the object behind the handle to `{}` is gone",
                        C::NAME
                    )));
                }
                Poll::Pending => {
                    if let Some(slot) = calls.waiting.get_mut(&id) {
                        slot.waker = Some(cx.waker().clone());
                    }
                    calls.reader = Some(id);
                    return Poll::Pending;
                }
            }
        }
    }

    /// An answer that came over the connection ([`Answer::Bytes`]), read in the call's task. One
    /// that does not decode closes the handle, as [`Answers`] would have closed it.
    fn read_answer(&self, bytes: Payload) -> Result<C::Reply, IpcError> {
        match super::message::from_object::<C>(bytes) {
            Ok(FromObject::Reply { reply, .. }) => Ok(reply),
            Ok(FromObject::Error { error, .. }) => Err((*error).into()),
            // The object speaks another version, or is hostile.
            Err(reason) => {
                let error = IpcError::Protocol {
                    reason: format!("a port message did not decode: {reason}"),
                };
                self.inner.port.close();
                lock(&self.inner.calls).close(error.clone());
                Err(error)
            }
        }
    }

    fn closed_error(&self, calls: &Calls<C::Reply>) -> IpcError {
        calls.closed.clone().unwrap_or_else(|| {
            IpcError::disconnected(format!(
                "the handle to `{}` is closed (released, sent away, or its connection is gone)",
                C::NAME
            ))
        })
    }
}

/// Tells the object to drop a call the holder no longer waits for.
struct CancelOnDrop<'a, C: Capability> {
    inner: &'a Inner<C>,
    id: u64,
    /// `Some` once the call has its outcome (its slot gone): whether it timed out.
    finished: Option<bool>,
}

impl<C: Capability> Drop for CancelOnDrop<'_, C> {
    fn drop(&mut self) {
        let cancel = match self.finished {
            Some(timed_out) => timed_out,
            // Given up while it waited.
            None => {
                let mut calls = lock(&self.inner.calls);
                // A call that took its answer handed the turn on already (in `poll_answer`).
                if calls.forget(self.id) {
                    calls.hand_off(self.id);
                }
                true
            }
        };
        if cancel {
            // A cancel that finds no room (a full window) is dropped: the answer then comes and
            // finds nobody waiting.
            let _ = self.inner.port.try_send_payload(Payload::written_by_hand(
                ToObject::<C::Call>::Cancel { id: self.id },
            ));
        }
    }
}

impl<C: Capability> Clone for Handle<C> {
    fn clone(&self) -> Self {
        Handle {
            inner: self.inner.clone(),
        }
    }
}

impl<C: Capability> fmt::Debug for Handle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("capability", &C::NAME)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// A handle crosses as its port: sending it hands it over (this side's clones no longer reach
/// the object). A handle with calls in flight cannot be handed over: their answers would reach
/// the new holder.
impl<C: Capability> Serialize for Handle<C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        {
            let calls = lock(&self.inner.calls);
            if !calls.waiting.is_empty() {
                return Err(serde::ser::Error::custom(format!(
                    "a handle to `{}` with {} calls in flight cannot be handed over",
                    C::NAME,
                    calls.waiting.len()
                )));
            }
        }
        let sent = self.inner.port.serialize(serializer)?;
        self.let_go("handed over");
        Ok(sent)
    }
}

impl<'de, C: Capability> Deserialize<'de> for Handle<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Port::deserialize(deserializer).map(Handle::from_port)
    }
}

/// The handle's TypeScript description names its capability. (Not its hash: a capability may
/// hand out handles of its own kind, and its schema would then contain itself.)
impl<C: Capability> ts_rs::TS for Handle<C> {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        format!("IpcHandle<\"{}\">", C::NAME)
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }

    fn visit_dependencies(_: &mut impl ts_rs::TypeVisitor)
    where
        Self: 'static,
    {
        // Not a type declaration: the capability's contract, which the schema lists among the
        // capabilities a contract reaches (the JavaScript bindings build its methods from it).
        ipc_schema::note_capability(ipc_schema::CapabilityLink::new(C::NAME, C::contract));
    }
}

/// One call through a [`Handle`] (a generated client's method returns it). Await it for
/// `Result<T, CallError<E>>`: the same outcomes as an invoke's (the handler's `Err`, a timeout,
/// a panic, a revoked or released handle). Nothing is sent until it is awaited; dropping it
/// before the answer cancels the handler on the object's side.
#[must_use = "a call does nothing until it is awaited"]
pub struct HandleCall<T, E> {
    start: StartCall<T, E>,
    timeout: Option<Duration>,
    types: PhantomData<fn() -> (T, E)>,
}

type StartCall<T, E> = Box<
    dyn FnOnce(Option<Duration>) -> Pin<Box<dyn Future<Output = Result<T, CallError<E>>> + Send>>
        + Send,
>;

impl<T, E> HandleCall<T, E> {
    /// Fails the call with [`IpcError::Timeout`] (and cancels the handler) if no answer came
    /// within `limit` (30 s unless set).
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Waits as long as it takes.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }
}

impl<T, E> IntoFuture for HandleCall<T, E> {
    type Output = Result<T, CallError<E>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        (self.start)(self.timeout)
    }
}

impl<T, E> fmt::Debug for HandleCall<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleCall")
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls() -> Calls<()> {
        Calls {
            waiting: HashMap::default(),
            reader: None,
            closed: None,
            deadlines: HashMap::default(),
            wake: WakePlan::new(),
        }
    }

    #[test]
    fn a_call_that_stops_waiting_leaves_no_deadline_behind() {
        let mut calls = calls();
        for id in 0..1000 {
            calls.waiting.insert(
                id,
                Slot {
                    answer: None,
                    waker: None,
                },
            );
            if id % 2 == 0 {
                let limit = Duration::from_secs(30);
                calls
                    .deadlines
                    .insert(id, ("m", limit, Instant::now() + limit));
            }
        }
        // Answered (taken), given up, or never there: each forgets what it had.
        for id in 0..1000 {
            assert!(calls.forget(id));
        }
        assert!(!calls.forget(5));
        assert!(calls.waiting.is_empty());
        assert!(calls.deadlines.is_empty());
    }

    /// An object's answer that does not decode closes the handle with `protocol`, whether it
    /// is sorted to its call by its id and read there (a reply's head, a value of another type),
    /// names a call nobody waits for, or cannot even be sorted: the waiting call fails with it,
    /// and so does every later call.
    #[tokio::test]
    async fn an_answer_that_does_not_decode_closes_the_handle() {
        use super::super::message::probe::{Probe, ProbeCall, ProbeReply};
        use crate::wire::Codec;

        // `{"t": "reply", "id": id, "reply": {"m": "pair", "outcome": {"Ok": 7}}}`: `pair`
        // answers bytes, not a number.
        fn misshapen_reply(id: u64) -> Vec<u8> {
            let mut bytes = vec![0x83, 0xa1, b't', 0xa5];
            bytes.extend_from_slice(b"reply");
            bytes.extend_from_slice(&[0xa2, b'i', b'd']);
            let (id, len) = msgpack::uint_bytes(id);
            bytes.extend_from_slice(&id[..len]);
            bytes.push(0xa5);
            bytes.extend_from_slice(b"reply");
            bytes.extend_from_slice(&[0x82, 0xa1, b'm', 0xa4]);
            bytes.extend_from_slice(b"pair");
            bytes.push(0xa7);
            bytes.extend_from_slice(b"outcome");
            bytes.extend_from_slice(&[0x81, 0xa2, b'O', b'k', 0x07]);
            bytes
        }

        for case in ["its call", "no call", "unsortable"] {
            let (object, holder) = Port::<FromObject<ProbeReply>, ToObject<ProbeCall>>::pair();
            let handle = Handle::<Probe>::from_port(holder);
            let call = handle.call(
                "pair",
                ProbeCall::pair((1, "a".into())),
                |reply| match reply {
                    ProbeReply::pair(result) => Some(result),
                    _ => None,
                },
            );
            let call = tokio::spawn(call.into_future());
            let id = match object.recv().await {
                Some(Ok(ToObject::Call { id, .. })) => id,
                _ => panic!("expected the call"),
            };
            let bytes = match case {
                "its call" => misshapen_reply(id),
                "no call" => misshapen_reply(id + 1000),
                _ => vec![0xc1],
            };
            object
                .send_payload(Payload::encoded(Codec::Binary, bytes.into()))
                .await
                .unwrap();
            let failed = call.await.unwrap();
            assert!(
                matches!(failed, Err(CallError::Ipc(IpcError::Protocol { ref reason })) if reason.contains("did not decode")),
                "{case}: {failed:?}"
            );
            let later = handle
                .call("pair", ProbeCall::pair((2, "b".into())), |_| {
                    None::<Result<Vec<u8>, crate::Never>>
                })
                .await;
            assert!(
                matches!(later, Err(CallError::Ipc(IpcError::Protocol { .. }))),
                "{case}: {later:?}"
            );
            assert!(handle.is_closed());
        }
    }
}
