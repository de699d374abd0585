//! Events in a renderer: each subscription is an [`EventStream`] fed by the reader task through
//! a bounded queue that turns overflow into a counted gap (`util::lag_queue`), and main's own lag
//! notices into the same gaps, so a subscriber always learns what it missed.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::error::EventError;
use crate::transport::message::ChannelName;
use crate::util::lag_queue::{Entry, LagQueue, Pushed};
use crate::util::lock;
use crate::wire::Payload;

type Queue = Arc<LagQueue<Payload>>;

/// The subscriptions of one renderer, by channel.
#[derive(Default)]
pub(crate) struct Subscribers {
    by_channel: Mutex<HashMap<ChannelName, Vec<Queue>>>,
    /// Refuses new subscriptions once the connection has closed.
    closed: Mutex<bool>,
}

impl Subscribers {
    /// A new subscription to `channel` buffering `capacity` events (ended at once when the
    /// connection has closed).
    fn add(&self, channel: &'static str, capacity: usize) -> Queue {
        let queue = Arc::new(LagQueue::new(capacity));
        let closed = lock(&self.closed);
        if *closed {
            queue.close();
        } else {
            lock(&self.by_channel)
                .entry(ChannelName::Borrowed(channel))
                .or_default()
                .push(queue.clone());
        }
        queue
    }

    /// Hands an event to every subscription of `channel` (forgetting the dropped ones).
    pub(crate) fn deliver(&self, channel: &str, payload: Payload) {
        self.each(channel, |queue| match payload.try_clone() {
            Some(copy) => queue.push(copy) != Pushed::Gone,
            None => true,
        });
    }

    /// Tells every subscription of `channel` that `missed` events were lost before they reached
    /// this renderer (main's lag notice), in their place.
    pub(crate) fn deliver_gap(&self, channel: &str, missed: u64) {
        self.each(channel, |queue| {
            queue.push_gap(missed);
            !queue.is_abandoned()
        });
    }

    fn each(&self, channel: &str, mut keep: impl FnMut(&Queue) -> bool) {
        let mut by_channel = lock(&self.by_channel);
        let Some(list) = by_channel.get_mut(channel) else {
            return;
        };
        list.retain(|queue| keep(queue));
        if list.is_empty() {
            by_channel.remove(channel);
        }
    }

    /// How many live subscriptions `channel` has.
    pub(crate) fn count(&self, channel: &str) -> usize {
        let mut count = 0;
        self.each(channel, |queue| {
            let live = !queue.is_abandoned();
            count += usize::from(live);
            live
        });
        count
    }

    /// Ends every subscription of `channel` (their streams end after what they hold); how many.
    pub(crate) fn remove_all(&self, channel: &str) -> usize {
        let list = lock(&self.by_channel).remove(channel).unwrap_or_default();
        let live = list.iter().filter(|queue| !queue.is_abandoned()).count();
        for queue in list {
            queue.close();
        }
        live
    }

    /// The connection closed: every stream ends after what it holds; new ones end at once.
    pub(crate) fn close(&self) {
        *lock(&self.closed) = true;
        for (_, list) in lock(&self.by_channel).drain() {
            for queue in list {
                queue.close();
            }
        }
    }
}

/// A subscription to one event channel: a [`Stream`] of its events.
///
/// Each item is the event's value, or an [`EventError`] in its place: `Lagged` when events were
/// missed here (this subscription's buffer was full, or main dropped events for this renderer
/// because it did not read them fast enough), `Undecodable` when a payload did not decode as the
/// declared type. The stream ends when the connection to main closes; dropping it unsubscribes.
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// use ipc_runtime::{EventChannel, EventError, Main, RendererOptions, Target};
///
/// const TICK: EventChannel<(u32,)> = EventChannel::new("clock:tick");
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// let renderer = main.connect_in_process(RendererOptions::new("window").event_buffer(2));
/// let mut ticks = renderer.subscribe(TICK);
/// for i in 0..5 {
///     main.emit(TICK, Target::All, (i,));
/// }
/// # tokio::task::yield_now().await;
/// assert_eq!(ticks.next().await, Some(Ok((0,))));
/// assert_eq!(ticks.next().await, Some(Ok((1,))));
/// assert_eq!(ticks.next().await, Some(Err(EventError::Lagged { missed: 3 })));
/// # }
/// ```
pub struct EventStream<T: 'static> {
    channel: &'static str,
    queue: Queue,
    decode: Box<dyn Fn(Payload) -> Result<T, String> + Send + Sync>,
}

impl<T: 'static> EventStream<T> {
    pub(crate) fn new<A>(
        subscribers: &Subscribers,
        channel: &'static str,
        capacity: usize,
        map: fn(A) -> Result<T, String>,
    ) -> Self
    where
        A: DeserializeOwned + Clone + 'static,
    {
        EventStream {
            channel,
            queue: subscribers.add(channel, capacity),
            decode: Box::new(move |payload: Payload| map(payload.take_cloned::<A>()?)),
        }
    }

    /// The channel this stream listens to.
    pub fn channel(&self) -> &'static str {
        self.channel
    }

    /// Waits for the next event itself, reporting a lag as an error (`once`).
    fn poll_one(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, EventError>>> {
        self.queue.poll_pop(cx).map(|entry| {
            entry.map(|entry| match entry {
                Entry::Value(payload) => (self.decode)(payload).map_err(|reason| {
                    tracing::warn!(channel = self.channel, %reason, "undecodable event");
                    EventError::Undecodable {
                        channel: self.channel.to_string(),
                        reason,
                    }
                }),
                Entry::Gap(missed) => Err(EventError::Lagged { missed }),
            })
        })
    }
}

impl<T: 'static> Unpin for EventStream<T> {}

impl<T: 'static> Stream for EventStream<T> {
    type Item = Result<T, EventError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_one(cx)
    }
}

impl<T: 'static> Drop for EventStream<T> {
    fn drop(&mut self) {
        self.queue.drop_receiver();
    }
}

impl<T: 'static> fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("channel", &self.channel)
            .finish()
    }
}

/// The first event of a channel from now on (Electron's `ipcRenderer.once`): a future made by
/// [`Renderer::once`](crate::Renderer::once). It subscribes when it is made and unsubscribes
/// when it resolves or is dropped.
#[must_use = "the subscription is dropped with the future"]
pub struct EventOnce<T: 'static> {
    stream: EventStream<T>,
    /// Why the connection closed (read when the stream ends first).
    closed_reason: Box<dyn Fn() -> String + Send + Sync>,
}

impl<T: 'static> EventOnce<T> {
    pub(crate) fn new(
        stream: EventStream<T>,
        closed_reason: Box<dyn Fn() -> String + Send + Sync>,
    ) -> Self {
        EventOnce {
            stream,
            closed_reason,
        }
    }
}

impl<T: 'static> Future for EventOnce<T> {
    type Output = Result<T, EventError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.stream.poll_one(cx) {
            Poll::Ready(Some(result)) => Poll::Ready(result),
            Poll::Ready(None) => Poll::Ready(Err(EventError::Closed {
                reason: (this.closed_reason)(),
            })),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: 'static> fmt::Debug for EventOnce<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventOnce")
            .field("channel", &self.stream.channel)
            .finish()
    }
}
