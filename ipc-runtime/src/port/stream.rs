//! [`Stream`]: a typed stream of items a call returns or takes, with flow control and a typed
//! end; [`StreamSender`]: the producing half of [`Stream::channel`].

use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::Stream as FuturesStream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::context::{self, Reference};
use super::end::EndCore;
use super::inbox::Closed;
use super::remote::RemotePort;
use crate::error::{CallError, IpcError, Never};
use crate::limits::DEFAULT_PORT_WINDOW;
use crate::util::{BoxStream, lock};
use crate::wire::{Outcome, Payload};

/// A stream of `T` that ends as it finished, with the producer's error `E`, or with a framework
/// error: what an invoke returns for progress, a log tail or search results, and what it takes
/// for an upload.
///
/// Make one from any stream ([`Stream::new`], [`Stream::try_new`]), an iterator
/// ([`Stream::from_iter`]) or a channel ([`Stream::channel`]). Consume it as a
/// `futures::Stream` of `Result<T, CallError<E>>`: items in order, then `None`, or one `Err`
/// and then `None`.
///
/// **Flow control**: across processes the producer sends at most a window of items ahead of
/// what the consumer took (credits): a consumer that stops reading stalls only its producer,
/// never the connection or other calls. **Cancellation**: dropping the consumer (or
/// [`Stream::cancel`]) stops the producer (main drops a handler's producing stream; a renderer's
/// upload stops). In process the producer is polled by the consumer itself.
///
/// Clones are handles on the same stream (they share its items).
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// use ipc_runtime::{CallError, Stream};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut numbers: Stream<u32> = Stream::from_iter([1, 2, 3]);
/// let mut got = Vec::new();
/// while let Some(item) = numbers.next().await {
///     got.push(item.unwrap());
/// }
/// assert_eq!(got, [1, 2, 3]);
///
/// let (sender, mut stream) = Stream::<u32, String>::channel();
/// tokio::spawn(async move {
///     sender.send(1).await.unwrap();
///     sender.fail("disk full".into());
/// });
/// assert_eq!(stream.next().await, Some(Ok(1)));
/// assert_eq!(stream.next().await, Some(Err(CallError::App("disk full".to_string()))));
/// assert_eq!(stream.next().await, None);
/// # }
/// ```
pub struct Stream<T, E = Never> {
    state: Arc<Shared>,
    types: PhantomData<fn() -> (T, E)>,
}

/// The stream, shared by its clones.
struct Shared(Mutex<State>);

enum State {
    /// Produced in this process: items as payloads, the end as `Err(how it closed)`.
    Source(BoxStream<Result<Payload, Closed>>),
    /// Fed by the other end of a pair: a channel's sender, or a port on a connection.
    End(EndCore),
    /// Ended (or sent away).
    Over,
}

impl Shared {
    /// Ends the stream here; a producer still running is told to stop.
    fn cancel(&self) {
        if let State::End(end) = std::mem::replace(&mut *lock(&self.0), State::Over) {
            end.close(Closed::done(Some("cancelled".to_string())));
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl<T, E> Stream<T, E> {
    fn with(state: State) -> Self {
        Stream {
            state: Arc::new(Shared(Mutex::new(state))),
            types: PhantomData,
        }
    }

    /// Stops the stream: its producer is stopped (across processes: told with a `close`), and
    /// this stream (every clone) ends.
    pub fn cancel(&self) {
        self.state.cancel();
    }
}

impl<T: Serialize + Send + 'static, E: Serialize + Send + 'static> Stream<T, E> {
    /// A stream of the items of `items` (infallible).
    pub fn new(items: impl FuturesStream<Item = T> + Send + 'static) -> Self {
        use futures_util::StreamExt;
        Stream::with(State::Source(Box::pin(
            items.map(|item| Ok(Payload::value(item))),
        )))
    }

    /// A stream of the items of `items`; the first `Err` ends it with that error.
    pub fn try_new(items: impl FuturesStream<Item = Result<T, E>> + Send + 'static) -> Self {
        use futures_util::StreamExt;
        Stream::with(State::Source(Box::pin(items.scan(
            false,
            |failed, item| {
                // The first error ends the stream.
                let next = if *failed {
                    None
                } else {
                    Some(match item {
                        Ok(item) => Ok(Payload::value(item)),
                        Err(error) => {
                            *failed = true;
                            Err(Closed::App(Arc::new(Mutex::new(Some(Payload::value(
                                error,
                            ))))))
                        }
                    })
                };
                std::future::ready(next)
            },
        ))))
    }

    /// A stream of the items of an iterator.
    #[allow(clippy::should_implement_trait)] // also a constructor of `Stream<T, E>` for any `E`
    pub fn from_iter<I>(items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        Stream::new(futures_util::stream::iter(items))
    }

    /// A stream and the sender that feeds it: the sender waits while the consumer has a window
    /// of items it has not taken.
    pub fn channel() -> (StreamSender<T, E>, Stream<T, E>) {
        let (producer, consumer) = EndCore::pair(DEFAULT_PORT_WINDOW);
        (
            StreamSender {
                end: Mutex::new(Some(producer)),
                types: PhantomData,
            },
            Stream::with(State::End(consumer)),
        )
    }
}

impl<T: DeserializeOwned + 'static, E: DeserializeOwned + 'static> FuturesStream for Stream<T, E> {
    type Item = Result<T, CallError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut state = lock(&self.state.0);
        let next = match &mut *state {
            State::Over => return Poll::Ready(None),
            State::Source(items) => match items.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(item)) => item,
                Poll::Ready(None) => Err(Closed::done(None)),
            },
            State::End(end) => match end.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(item) => item,
            },
        };
        match next {
            Ok(item) => Poll::Ready(Some(item.take::<T>().map_err(|reason| {
                CallError::Ipc(IpcError::BadReply {
                    channel: "stream".into(),
                    reason,
                })
            }))),
            Err(closed) => {
                // The producer is done: nothing to cancel.
                if let State::End(end) = std::mem::replace(&mut *state, State::Over) {
                    end.close(Closed::done(None));
                }
                Poll::Ready(match closed {
                    Closed::Done { .. } => None,
                    Closed::Error(error) => Some(Err(CallError::Ipc(error))),
                    Closed::App(value) => {
                        let value = lock(&value).take();
                        Some(Err(match value.map(Payload::take::<E>) {
                            Some(Ok(error)) => CallError::App(error),
                            Some(Err(reason)) => CallError::Ipc(IpcError::BadReply {
                                channel: "stream".into(),
                                reason: format!("the stream's error did not decode: {reason}"),
                            }),
                            None => CallError::Ipc(IpcError::disconnected("the stream failed")),
                        }))
                    }
                })
            }
        }
    }
}

impl<T, E> Clone for Stream<T, E> {
    fn clone(&self) -> Self {
        Stream {
            state: self.state.clone(),
            types: PhantomData,
        }
    }
}

impl<T, E> fmt::Debug for Stream<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*lock(&self.state.0) {
            State::Source(_) => "local",
            State::End(_) => "open",
            State::Over => "over",
        };
        f.debug_struct("Stream").field("state", &state).finish()
    }
}

impl<T, E> Serialize for Stream<T, E> {
    /// Hands the stream over to the connection the message is being encoded for: a stream made
    /// here is pumped from this process within the consumer's credits.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ports = context::destination("stream").map_err(serde::ser::Error::custom)?;
        let taken = std::mem::replace(&mut *lock(&self.state.0), State::Over);
        let id = match taken {
            State::End(end) => end.transfer(&ports),
            State::Source(items) => {
                let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
                    serde::ser::Error::custom("a stream can be sent only inside a Tokio runtime")
                })?;
                ports.open_here(None).map(|remote| {
                    let id = remote.id();
                    runtime.spawn(pump(items, remote));
                    id
                })
            }
            State::Over => Err(IpcError::Encode {
                reason: "this stream was sent away or has ended".into(),
            }),
        }
        .map_err(serde::ser::Error::custom)?;
        context::transferred(id);
        crate::wire::transfer::note(id);
        Reference {
            kind: "stream".into(),
            port: id,
        }
        .serialize(serializer)
    }
}

impl<'de, T, E> Deserialize<'de> for Stream<T, E> {
    /// Claims the port its frame transferred.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reference = Reference::deserialize(deserializer)?;
        let end = context::claim(&reference, "stream").map_err(serde::de::Error::custom)?;
        Ok(Stream::with(State::End(end)))
    }
}

impl<T: ts_rs::TS, E: ts_rs::TS> ts_rs::TS for Stream<T, E> {
    type WithoutGenerics = Stream<ts_rs::Dummy, ts_rs::Dummy>;
    type OptionInnerType = Self;

    fn ident(_: &ts_rs::Config) -> String {
        "IpcStream".to_owned()
    }

    fn name(cfg: &ts_rs::Config) -> String {
        format!("IpcStream<{}, {}>", T::name(cfg), E::name(cfg))
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        format!("IpcStream<{}, {}>", T::inline(cfg), E::inline(cfg))
    }

    fn visit_dependencies(v: &mut impl ts_rs::TypeVisitor)
    where
        Self: 'static,
    {
        T::visit_dependencies(v);
        E::visit_dependencies(v);
    }

    fn visit_generics(v: &mut impl ts_rs::TypeVisitor)
    where
        Self: 'static,
    {
        T::visit_generics(v);
        v.visit::<T>();
        E::visit_generics(v);
        v.visit::<E>();
    }
}

/// Sends a stream made here over a connection: as many items as the consumer has room for,
/// then how it ended; stops (dropping `items`, the producer) when the consumer cancels.
async fn pump(mut items: BoxStream<Result<Payload, Closed>>, remote: Arc<RemotePort>) {
    loop {
        let next = poll_fn(|cx| {
            if remote.poll_closed(cx).is_ready() {
                return Poll::Ready(None);
            }
            items.as_mut().poll_next(cx).map(Some)
        })
        .await;
        let item = match next {
            // The consumer cancelled (or the connection ended): the producer is dropped.
            None => return,
            Some(Some(item)) => item,
            Some(None) => {
                remote.shutdown(None, Outcome::Done);
                return;
            }
        };
        match item {
            Ok(message) => {
                let mut slot = Some(message);
                if poll_fn(|cx| remote.poll_send(cx, &mut slot)).await.is_err() {
                    return;
                }
            }
            Err(closed) => {
                let (reason, outcome) = super::end::outcome_of(&closed);
                remote.shutdown(reason, outcome);
                return;
            }
        }
    }
}

/// The producing half of [`Stream::channel`]. Dropping it ends the stream (as
/// [`StreamSender::finish`]).
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// use ipc_runtime::Stream;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (sender, stream) = Stream::<String>::channel();
/// tokio::spawn(async move {
///     for line in ["a", "b"] {
///         if sender.send(line.to_string()).await.is_err() {
///             return; // the consumer cancelled
///         }
///     }
/// });
/// let lines: Vec<_> = stream.map(Result::unwrap).collect().await;
/// assert_eq!(lines, ["a", "b"]);
/// # }
/// ```
pub struct StreamSender<T, E = Never> {
    end: Mutex<Option<EndCore>>,
    types: PhantomData<fn(T, E)>,
}

impl<T: Serialize + Send + 'static, E: Serialize + Send + 'static> StreamSender<T, E> {
    /// Sends an item, waiting while the consumer's window is full.
    ///
    /// # Errors
    ///
    /// [`IpcError::Disconnected`] when the consumer cancelled or went away.
    pub async fn send(&self, item: T) -> Result<(), IpcError> {
        let mut slot = Some(Payload::value(item));
        poll_fn(|cx| match lock(&self.end).as_ref() {
            Some(end) => end.poll_send(cx, &mut slot),
            None => Poll::Ready(Err(IpcError::disconnected("the stream has ended"))),
        })
        .await
    }

    /// Sends an item if the consumer has room now.
    ///
    /// # Errors
    ///
    /// [`IpcError::TooManyInFlight`] when the consumer's window is full;
    /// [`IpcError::Disconnected`] when it cancelled or went away.
    pub fn try_send(&self, item: T) -> Result<(), IpcError> {
        match lock(&self.end).as_ref() {
            Some(end) => end.try_send(Payload::value(item)),
            None => Err(IpcError::disconnected("the stream has ended")),
        }
    }

    /// Ends the stream with the error `error`.
    pub fn fail(self, error: E) {
        if let Some(end) = lock(&self.end).take() {
            end.close(Closed::App(Arc::new(Mutex::new(Some(Payload::value(
                error,
            ))))));
        }
    }
}

impl<T, E> StreamSender<T, E> {
    /// Ends the stream: the consumer gets the items sent, then the end.
    pub fn finish(self) {
        drop(self);
    }

    /// Whether the consumer cancelled or went away.
    pub fn is_closed(&self) -> bool {
        lock(&self.end).as_ref().is_none_or(EndCore::is_closed)
    }
}

impl<T, E> Drop for StreamSender<T, E> {
    fn drop(&mut self) {
        if let Some(end) = lock(&self.end).take() {
            end.close(Closed::done(None));
        }
    }
}

impl<T, E> fmt::Debug for StreamSender<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}
