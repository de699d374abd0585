//! Watching renderers come and go: [`Main::renderer_events`] yields a [`RendererEvent`] for each
//! renderer that connects (a window behind a bridge included) and each that leaves, with why.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::Main;
use crate::caller::Caller;
use crate::error::EventError;
use crate::util::lag_queue::{Entry, LagQueue};
use crate::util::lock;

/// Events a watcher buffers before it lags (and is told how many it missed).
const WATCHER_BUFFER: usize = 1024;

/// A renderer connected or went away.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RendererEvent {
    /// A renderer connected (it is registered: events emitted to it now reach it).
    Connected(Caller),
    /// A renderer went away (it is no longer listed); `reason` says why.
    Disconnected {
        /// Who it was.
        caller: Caller,
        /// Why the connection ended.
        reason: String,
    },
}

/// The stream of [`Main::renderer_events`]. A watcher that falls more than 1024 events behind
/// gets [`EventError::Lagged`] with the count in the place of the events it missed.
pub struct RendererEvents {
    queue: Arc<LagQueue<RendererEvent>>,
}

impl Stream for RendererEvents {
    type Item = Result<RendererEvent, EventError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.queue.poll_pop(cx).map(|entry| {
            entry.map(|entry| match entry {
                Entry::Value(event) => Ok(event),
                Entry::Gap(missed) => Err(EventError::Lagged { missed }),
            })
        })
    }
}

impl Drop for RendererEvents {
    fn drop(&mut self) {
        self.queue.drop_receiver();
    }
}

impl fmt::Debug for RendererEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RendererEvents").finish_non_exhaustive()
    }
}

impl Main {
    /// Renderers connecting and going away, from now on (Electron's `web-contents-created` and
    /// `destroyed`), without polling [`Main::renderer_count`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use ipc_runtime::{Main, RendererEvent, RendererOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let mut events = main.renderer_events();
    /// let renderer = main.connect_in_process(RendererOptions::new("window"));
    /// match events.next().await {
    ///     Some(Ok(RendererEvent::Connected(caller))) => assert_eq!(caller.label(), "window"),
    ///     other => panic!("{other:?}"),
    /// }
    /// main.disconnect(renderer.id());
    /// assert!(matches!(
    ///     events.next().await,
    ///     Some(Ok(RendererEvent::Disconnected { .. }))
    /// ));
    /// # }
    /// ```
    pub fn renderer_events(&self) -> RendererEvents {
        let queue = Arc::new(LagQueue::new(WATCHER_BUFFER));
        let mut watchers = lock(&self.inner.watchers);
        watchers.retain(|watcher| !watcher.is_abandoned());
        watchers.push(queue.clone());
        RendererEvents { queue }
    }

    /// Tells every watcher.
    pub(crate) fn announce(&self, event: RendererEvent) {
        let watchers = lock(&self.inner.watchers);
        for watcher in watchers.iter() {
            watcher.push(event.clone());
        }
    }
}
