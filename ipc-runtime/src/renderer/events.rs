//! Events in a renderer: each subscription is an [`EventStream`] fed by the reader task.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::transport::message::ChannelName;
use crate::util::lock;
use crate::wire::Payload;

/// The subscriptions of one renderer, by channel.
pub(crate) type Subscribers = Mutex<HashMap<ChannelName, Vec<mpsc::Sender<Payload>>>>;

/// Hands an event to every subscription of `channel` (forgetting the dropped ones).
pub(crate) fn deliver(subscribers: &Subscribers, channel: &str, payload: Payload) {
    let mut subscribers = lock(subscribers);
    let Some(list) = subscribers.get_mut(channel) else {
        return;
    };
    list.retain(|tx| {
        let Some(copy) = payload.try_clone() else {
            return true;
        };
        match tx.try_send(copy) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(channel, "event subscriber is not keeping up; event dropped");
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    });
    if list.is_empty() {
        subscribers.remove(channel);
    }
}

/// A subscription to one event channel: a [`Stream`] of its payloads.
///
/// The stream ends when the connection to main closes. Dropping it unsubscribes. A payload that
/// does not decode as the declared type (a peer built from another contract) is skipped and
/// logged, never turned into a panic.
pub struct EventStream<T: 'static> {
    channel: &'static str,
    queue: mpsc::Receiver<Payload>,
    decode: Box<dyn Fn(Payload) -> Result<T, String> + Send + Sync>,
}

impl<T: 'static> EventStream<T> {
    pub(crate) fn new<A>(
        channel: &'static str,
        queue: mpsc::Receiver<Payload>,
        map: fn(A) -> Result<T, String>,
    ) -> Self
    where
        A: DeserializeOwned + Clone + 'static,
    {
        EventStream {
            channel,
            queue,
            decode: Box::new(move |payload: Payload| map(payload.take_cloned::<A>()?)),
        }
    }

    /// The channel this stream listens to.
    pub fn channel(&self) -> &'static str {
        self.channel
    }
}

impl<T: 'static> Unpin for EventStream<T> {}

impl<T: 'static> Stream for EventStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        loop {
            match this.queue.poll_recv(cx) {
                Poll::Ready(Some(payload)) => match (this.decode)(payload) {
                    Ok(value) => return Poll::Ready(Some(value)),
                    Err(reason) => {
                        tracing::warn!(channel = this.channel, %reason, "undecodable event skipped");
                    }
                },
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T: 'static> fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("channel", &self.channel)
            .finish()
    }
}
