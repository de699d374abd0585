//! [`Port`]: a typed end of an entangled pair (Electron's `MessageChannelMain`, typed).

use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::context::{self, Reference};
use super::end::{EndCore, Target};
use super::holder::Holder;
use super::inbox::{Closed, Direct};
use crate::error::IpcError;
use crate::limits::DEFAULT_PORT_WINDOW;
use crate::util::lock;
use crate::wire::Payload;

/// One end of a port pair: it sends `Out` and receives `In`, in order, with flow control (a
/// sender waits while its receiver has a window of messages it has not taken).
///
/// Make a pair with [`Port::pair`], keep one end and hand the other to a renderer inside any
/// call's arguments or result, a port message, or an event to one renderer: the end then lives
/// in that renderer (transfer semantics, as Electron's transfer list: the sender no longer holds
/// it). Main can give the two ends of one pair to two renderers, which then talk to each other
/// (relayed by main). Both ends see the close when the other end closes, is dropped, or its
/// process dies: [`Port::recv`] returns `None`.
///
/// Clones are handles on the same end (they share its messages); the end closes when the last
/// handle is dropped or one of them calls [`Port::close`].
///
/// A message that carries a port is encoded twice: once on the hope that it carries none (most
/// messages do not, and that encoding is cheaper), and again once a port was met, which
/// stopped the first attempt before anything was handed over. So a `Serialize` impl around a
/// port must not change anything as it runs (one that takes the port out of a `Mutex` would
/// lose it on the first attempt): put the port itself in the value.
///
/// # Examples
///
/// ```
/// use ipc_runtime::Port;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (here, there) = Port::<String, u32>::pair();
/// here.send("hello".into()).await.unwrap();
/// assert_eq!(there.recv().await, Some(Ok("hello".to_string())));
/// there.send(5).await.unwrap();
/// assert_eq!(here.recv().await, Some(Ok(5)));
/// drop(there);
/// assert_eq!(here.recv().await, None);
/// # }
/// ```
pub struct Port<Out, In> {
    handle: Arc<Handle>,
    types: PhantomData<fn(Out) -> In>,
}

/// How [`Port::send_via`] sent a message.
enum Sent<R> {
    /// The partner took it directly.
    Directly,
    /// The end took it (what its send said).
    ByEnd(R),
    /// The end is gone (closed or sent away).
    Closed,
}

/// The end itself, shared by a port's clones; `None` once transferred or closed.
struct Handle {
    core: Mutex<Option<EndCore>>,
    /// A clone waiting in `recv`: woken when another clone closes the end or sends it away
    /// (nothing else would wake it then).
    reader: AtomicWaker,
}

impl Handle {
    /// Takes the end from this handle (to close it or send it away), waking a clone that waits
    /// to receive on it: that clone sees the port closed.
    fn take_core(&self) -> Option<EndCore> {
        let core = lock(&self.core).take();
        self.reader.wake();
        core
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(core) = lock(&self.core).take() {
            core.close(Closed::done(Some("the other end was dropped".to_string())));
        }
    }
}

impl<Out, In> Port<Out, In> {
    fn from_core(core: EndCore) -> Self {
        Port {
            handle: Arc::new(Handle {
                core: Mutex::new(Some(core)),
                reader: AtomicWaker::new(),
            }),
            types: PhantomData,
        }
    }

    /// Two entangled ends: what one sends, the other receives.
    pub fn pair() -> (Port<Out, In>, Port<In, Out>) {
        let (a, b) = EndCore::pair(DEFAULT_PORT_WINDOW);
        (Port::from_core(a), Port::from_core(b))
    }

    fn closed_error() -> IpcError {
        IpcError::disconnected("the port is closed (or was sent away)")
    }

    /// Whether the port is closed: by either end, by a process going away, or because this end
    /// was sent away.
    pub fn is_closed(&self) -> bool {
        lock(&self.handle.core)
            .as_ref()
            .is_none_or(EndCore::is_closed)
    }

    /// Closes the port for both ends (every clone of this one included). The other end receives
    /// what was sent before, then sees the close.
    pub fn close(&self) {
        if let Some(core) = self.handle.take_core() {
            core.close(Closed::done(Some("closed by the other end".to_string())));
        }
    }

    /// Closes the port for both ends with `error`: the other end's [`Port::recv`] returns it
    /// (a capability's owner revoking it).
    pub(crate) fn close_with(&self, error: IpcError) {
        if let Some(core) = self.handle.take_core() {
            core.close(Closed::Error(error));
        }
    }
}

impl<Out: Serialize + Send + 'static, In> Port<Out, In> {
    /// Sends `message`, waiting while the receiver's window is full.
    ///
    /// # Errors
    ///
    /// [`IpcError::Disconnected`] when the port is closed.
    pub async fn send(&self, message: Out) -> Result<(), IpcError> {
        self.send_payload(Payload::value(message)).await
    }

    /// [`Port::send`] of an `Out` already made a payload (one written by hand).
    pub(crate) async fn send_payload(&self, message: Payload) -> Result<(), IpcError> {
        let mut slot = Some(message);
        poll_fn(|cx| self.poll_send(cx, &mut slot)).await
    }

    /// Sends the message in `slot` (made with [`Payload::value`] of an `Out`) once the receiver
    /// has room, as [`Port::send`] does; keeps it there while it waits (a capability's call
    /// reads answers while its own call waits to go).
    pub(crate) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        slot: &mut Option<Payload>,
    ) -> Poll<Result<(), IpcError>> {
        let Some(message) = slot.take() else {
            return Poll::Ready(Ok(()));
        };
        let sent = self.send_via(message, |target, message| {
            let mut waiting = Some(message);
            let poll = EndCore::poll_send_to(target, cx, &mut waiting);
            (poll, waiting)
        });
        match sent {
            Sent::Directly => Poll::Ready(Ok(())),
            Sent::ByEnd((poll, waiting)) => {
                *slot = waiting;
                poll
            }
            Sent::Closed => Poll::Ready(Err(Self::closed_error())),
        }
    }

    /// Hands `message` to a partner in this process that takes messages directly now (a
    /// capability's object, a handle's answers), in this task and with no lock of this end held,
    /// so that what it runs may send on ports, this one included; otherwise, or when it gives
    /// the message back, sends it by the end with `send`. The usual case (a partner across a
    /// connection, or one read by its task) looks at the end once.
    fn send_via<R>(
        &self,
        message: Payload,
        mut send: impl FnMut(&Target, Payload) -> R,
    ) -> Sent<R> {
        let (direct, message) = {
            let core = lock(&self.handle.core);
            let Some(core) = core.as_ref() else {
                return Sent::Closed;
            };
            match core.send_or_direct(message, &mut send) {
                Ok(sent) => return Sent::ByEnd(sent),
                Err(direct) => direct,
            }
        };
        match super::context::on_its_own(|| direct.offer(message)) {
            Ok(()) => Sent::Directly,
            Err(message) => match lock(&self.handle.core).as_ref() {
                Some(core) => Sent::ByEnd(core.with_target(|target| send(target, message))),
                None => Sent::Closed,
            },
        }
    }

    /// Sends `message` if the receiver has room now.
    ///
    /// # Errors
    ///
    /// [`IpcError::TooManyInFlight`] when the receiver's window is full;
    /// [`IpcError::Disconnected`] when the port is closed.
    pub fn try_send(&self, message: Out) -> Result<(), IpcError> {
        self.try_send_payload(Payload::value(message))
    }

    /// [`Port::try_send`] of an `Out` already made a payload.
    pub(crate) fn try_send_payload(&self, message: Payload) -> Result<(), IpcError> {
        match lock(&self.handle.core).as_ref() {
            Some(core) => core.try_send(message),
            None => Err(Self::closed_error()),
        }
    }
}

impl<Out: Serialize + Send + 'static, In> Port<Out, In> {
    /// Sends `message` (an `Out` made a payload) if it can go at once: a partner in this
    /// process that takes it directly, or room in the receiver's window. Otherwise gives it
    /// back (for a sender that waits for room). Dropped when the port is closed.
    pub(crate) fn try_push_payload(&self, message: Payload) -> Result<(), Payload> {
        match self.send_via(message, EndCore::try_push_to) {
            Sent::ByEnd(Some(message)) => Err(message),
            Sent::Directly | Sent::ByEnd(None) | Sent::Closed => Ok(()),
        }
    }

    /// Messages are offered to `direct` as they come (read from a connection, or sent by a local
    /// partner), while nothing is queued ([`Direct`]); a message it gives back is queued for
    /// [`Port::recv`].
    pub(crate) fn take_directly(&self, direct: Arc<dyn Direct>) {
        if let Some(core) = lock(&self.handle.core).as_ref() {
            core.take_directly(direct);
        }
    }

    /// Whether this end's messages go out on a connection now (its partner is across one, or
    /// was sent onto one), rather than to a partner in this process.
    pub(crate) fn is_remote(&self) -> bool {
        lock(&self.handle.core)
            .as_ref()
            .is_some_and(|core| core.with_target(|target| matches!(target, Target::Remote(_))))
    }

    /// Who holds the other end, as the connection it went onto vouches (`None` while it is in
    /// this process, or on a connection that names no holder).
    pub(crate) fn holder(&self) -> Option<Arc<dyn Holder>> {
        lock(&self.handle.core).as_ref().and_then(EndCore::holder)
    }
}

impl<Out, In: DeserializeOwned + 'static> Port<Out, In> {
    /// The next message; `None` once the port is closed and every message before the close was
    /// received.
    ///
    /// # Errors
    ///
    /// `Some(Err(..))` for a message that does not decode as `In`, or for the framework error
    /// the port closed with (a protocol fault of the peer's; the connection ending is a close).
    pub async fn recv(&self) -> Option<Result<In, IpcError>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`Port::recv`] as a poll (a capability's calls read their answers with it).
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Result<In, IpcError>>> {
        self.poll_recv_payload(cx).map(|message| {
            message.map(|message| {
                message?.take::<In>().map_err(|reason| IpcError::Protocol {
                    reason: format!("a port message did not decode: {reason}"),
                })
            })
        })
    }
}

impl<Out, In> Port<Out, In> {
    /// [`Port::poll_recv`] with the message as it arrived, not decoded (a capability's object
    /// reads its calls in its own way).
    pub(crate) fn poll_recv_payload(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Payload, IpcError>>> {
        // Registered before the end is looked at: a clone taking it after this sees the waker.
        self.handle.reader.register(cx.waker());
        let mut core = lock(&self.handle.core);
        let Some(end) = core.as_ref() else {
            return Poll::Ready(None);
        };
        match end.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(message)) => Poll::Ready(Some(Ok(message))),
            Poll::Ready(Err(closed)) => {
                // Closed for good: later calls see `None` at once.
                if let Some(end) = core.take() {
                    end.close(Closed::done(None));
                }
                Poll::Ready(match closed {
                    Closed::Error(error) if !matches!(error, IpcError::Disconnected { .. }) => {
                        Some(Err(error))
                    }
                    _ => None,
                })
            }
        }
    }
}

impl<Out, In: DeserializeOwned + 'static> futures_util::Stream for Port<Out, In> {
    type Item = Result<In, IpcError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_recv(cx)
    }
}

impl<Out, In> Clone for Port<Out, In> {
    fn clone(&self) -> Self {
        Port {
            handle: self.handle.clone(),
            types: PhantomData,
        }
    }
}

impl<Out, In> fmt::Debug for Port<Out, In> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Port")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<Out, In> Serialize for Port<Out, In> {
    /// Hands the end over to the connection the message is being encoded for.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ports = context::destination("port end").map_err(serde::ser::Error::custom)?;
        let Some(core) = self.handle.take_core() else {
            return Err(serde::ser::Error::custom(
                "this port end was sent away or closed already",
            ));
        };
        let id = core.transfer(&ports).map_err(serde::ser::Error::custom)?;
        context::transferred(id);
        crate::wire::transfer::note(id);
        Reference {
            kind: "port".into(),
            port: id,
        }
        .serialize(serializer)
    }
}

impl<'de, Out, In> Deserialize<'de> for Port<Out, In> {
    /// Claims the port its frame transferred.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reference = Reference::deserialize(deserializer)?;
        let core = context::claim(&reference, "port").map_err(serde::de::Error::custom)?;
        Ok(Port::from_core(core))
    }
}

impl<Out: ts_rs::TS, In: ts_rs::TS> ts_rs::TS for Port<Out, In> {
    type WithoutGenerics = Port<ts_rs::Dummy, ts_rs::Dummy>;
    type OptionInnerType = Self;

    fn ident(_: &ts_rs::Config) -> String {
        "IpcPort".to_owned()
    }

    fn name(cfg: &ts_rs::Config) -> String {
        format!("IpcPort<{}, {}>", Out::name(cfg), In::name(cfg))
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        format!("IpcPort<{}, {}>", Out::inline(cfg), In::inline(cfg))
    }

    fn visit_dependencies(v: &mut impl ts_rs::TypeVisitor)
    where
        Self: 'static,
    {
        Out::visit_dependencies(v);
        In::visit_dependencies(v);
    }

    fn visit_generics(v: &mut impl ts_rs::TypeVisitor)
    where
        Self: 'static,
    {
        Out::visit_generics(v);
        v.visit::<Out>();
        In::visit_generics(v);
        v.visit::<In>();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::task::{Context, Poll, Waker};

    use super::*;

    /// A partner in this process that notes, for each message it takes, whether the send that
    /// brought it said it was one of several.
    struct Notes(Mutex<Vec<bool>>);

    impl Direct for Notes {
        fn offer(&self, _message: Payload) -> Result<(), Payload> {
            lock(&self.0).push(crate::port::sent_among_others());
            Ok(())
        }
    }

    #[test]
    fn a_partner_taking_a_message_directly_does_not_inherit_the_senders_hint() {
        let (ours, theirs) = Port::<u32, u32>::pair();
        let notes = Arc::new(Notes(Mutex::new(Vec::new())));
        theirs.take_directly(notes.clone());
        let mut cx = Context::from_waker(Waker::noop());
        let mut message = Some(Payload::value(1u32));
        let (sent, hint_after) = crate::port::among_others(|| {
            let sent = ours.poll_send(&mut cx, &mut message);
            (sent, crate::port::sent_among_others())
        });
        assert!(matches!(sent, Poll::Ready(Ok(()))));
        assert!(
            hint_after,
            "the sender's own hint holds again once the partner took it"
        );
        // What the partner runs on taking it (a handler, which may send on ports of a
        // connection) is not part of the sender's burst.
        assert_eq!(*lock(&notes.0), [false]);
        assert!(!crate::port::sent_among_others());
    }
}
