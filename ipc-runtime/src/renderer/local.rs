//! In-process calls, run in the caller's own task straight against main's registry (through
//! the transport's `LocalRoute`): no message, no task hop.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use futures_util::FutureExt;

use super::Renderer;
use crate::error::IpcError;
use crate::transport::in_process::LocalRoute;
use crate::transport::message::{CallResult, ChannelName, Failure, GuardedCall, handler_outcome};
use crate::util::deadline::Deadlines;
use crate::wire::Payload;

impl Renderer {
    /// An in-process call, run in the caller's task: no message, no task hop. Same rules as a
    /// call main runs: the connection's in-flight limit, panics caught, the deadline, and a
    /// prompt `Disconnected` when main closes the connection; dropping the future drops the
    /// handler.
    async fn call_local(
        &self,
        (route, deadlines): &(LocalRoute, Arc<Deadlines>),
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
    ) -> CallResult {
        if route.closer.is_closed() {
            return Err(Failure::Ipc(self.closed_by_main()));
        }
        let Ok(slot) = route.slots.try_acquire() else {
            return Err(Failure::Ipc(IpcError::TooManyInFlight {
                limit: route.max_in_flight,
            }));
        };
        let call = route
            .connection
            .start_call(&channel, args)
            .map_err(Failure::Ipc)?;
        let mut call = AssertUnwindSafe(call).catch_unwind();
        // Most handlers finish at their first poll (nothing to wait for). Such a call needs no
        // deadline and no watch on the connection: only its first poll is made here.
        let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut call).poll(cx))).await;
        let outcome = match first {
            // A closed connection wins over a result that happens to be ready.
            Poll::Ready(_) if route.closer.is_closed() => Err(Failure::Ipc(self.closed_by_main())),
            Poll::Ready(outcome) => handler_outcome(&channel, outcome),
            Poll::Pending => {
                self.wait_local(route, deadlines, &channel, call, timeout)
                    .await
            }
        };
        drop(slot);
        self.wait_for_events(route.events_queued.load(Ordering::SeqCst))
            .await;
        outcome
    }

    /// The rest of an in-process call whose handler has to wait.
    async fn wait_local(
        &self,
        route: &LocalRoute,
        deadlines: &Arc<Deadlines>,
        channel: &str,
        call: GuardedCall,
        timeout: Option<Duration>,
    ) -> CallResult {
        let id = self.inner.next_call.fetch_add(1, Ordering::Relaxed);
        let mut deadline = timeout.map(|limit| (limit, deadlines.register(id, limit)));
        let expired = async {
            match &mut deadline {
                Some((limit, deadline)) => {
                    deadline.expired().await;
                    *limit
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            // A closed connection wins over a result that happens to be ready.
            biased;
            () = route.closer.closed() => Err(Failure::Ipc(self.closed_by_main())),
            outcome = call => handler_outcome(channel, outcome),
            after = expired => Err(Failure::Ipc(IpcError::Timeout {
                channel: channel.to_string(),
                after,
            })),
        }
    }

    /// Waits until the reader has handed over `count` events (in process, the ones main queued
    /// before the reply, which took a shorter path), or the connection closed.
    async fn wait_for_events(&self, count: u64) {
        let shared = &self.inner.shared;
        loop {
            let progress = shared.event_progress.notified();
            if shared.events_seen.load(Ordering::SeqCst) >= count || self.is_closed() {
                return;
            }
            progress.await;
        }
    }

    /// Whether calls run in the caller's task (an in-process renderer).
    pub(crate) fn is_local(&self) -> bool {
        self.inner.route.is_some()
    }

    /// Runs one in-process call (see `call_local`).
    pub(crate) async fn call_in_process(
        self,
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
    ) -> CallResult {
        if self.is_closed() {
            return Err(Failure::Ipc(self.disconnected_error()));
        }
        match &self.inner.route {
            Some(route) => self.call_local(route, channel, args, timeout).await,
            None => Err(Failure::Ipc(IpcError::Protocol {
                reason: "not an in-process renderer".into(),
            })),
        }
    }
}
