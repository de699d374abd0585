//! Events: [`Target`] selects renderers on main; [`EventStream`] receives them in a renderer.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::caller::{Caller, RendererId};
use crate::payload::Payload;

/// Which renderers an event goes to.
///
/// # Examples
///
/// ```
/// use ipc_runtime::Target;
///
/// let everyone = Target::All;
/// let settings_windows = Target::filter(|caller| caller.label().starts_with("settings"));
/// # let _ = (everyone, settings_windows);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Target {
    /// Every connected renderer.
    All,
    /// One renderer.
    Renderer(RendererId),
    /// Several renderers.
    Renderers(Vec<RendererId>),
    /// Every renderer the predicate accepts.
    Filter(Arc<dyn Fn(&Caller) -> bool + Send + Sync>),
}

impl Target {
    /// Renderers selected by a predicate over their identity.
    pub fn filter(predicate: impl Fn(&Caller) -> bool + Send + Sync + 'static) -> Self {
        Target::Filter(Arc::new(predicate))
    }

    /// Whether the target includes `caller`.
    pub fn matches(&self, caller: &Caller) -> bool {
        match self {
            Target::All => true,
            Target::Renderer(id) => caller.renderer() == *id,
            Target::Renderers(ids) => ids.contains(&caller.renderer()),
            Target::Filter(predicate) => predicate(caller),
        }
    }
}

impl From<RendererId> for Target {
    fn from(id: RendererId) -> Self {
        Target::Renderer(id)
    }
}

impl From<&Caller> for Target {
    fn from(caller: &Caller) -> Self {
        Target::Renderer(caller.renderer())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::All => f.write_str("All"),
            Target::Renderer(id) => write!(f, "Renderer({id})"),
            Target::Renderers(ids) => f.debug_tuple("Renderers").field(ids).finish(),
            Target::Filter(_) => f.write_str("Filter(..)"),
        }
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
