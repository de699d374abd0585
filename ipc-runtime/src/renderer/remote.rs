//! Calls across a connection: queued to main as an `invoke`, answered by a `reply` the reader
//! task hands to the waiting call, cancelled with a `cancel` when the caller gives up.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Renderer;
use super::end::PostError;
use crate::error::IpcError;
use crate::transport::message::{CallResult, ChannelName, Failure, ToMain};
use crate::wire::Payload;

impl Renderer {
    /// Runs one call across a connection: queues it, waits for the reply within its deadline,
    /// cancels on drop.
    pub(crate) async fn call_remote(
        self,
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
    ) -> CallResult {
        let inner = &self.inner;
        if self.is_closed() {
            return Err(Failure::Ipc(self.disconnected_error()));
        }
        let id = inner.next_call.fetch_add(1, Ordering::Relaxed);
        // Refused once the connection has closed (a reply could not come).
        let Some(mut answer) = inner.shared.pending.insert(id, channel.clone(), timeout) else {
            return Err(Failure::Ipc(self.disconnected_error()));
        };
        let guard = CancelOnDrop {
            renderer: &self,
            id,
        };
        let message = ToMain::Invoke {
            id,
            channel,
            args,
            timeout,
            sender: None,
        };
        // Queuing waits only when the outbox is full (main is not reading): the call's deadline
        // and the connection closing still end it then, through its reply slot.
        let posted = match inner.outgoing.post_now(message) {
            Ok(None) => Ok(()),
            Ok(Some(blocked)) => {
                let mut queued = blocked.wait();
                tokio::select! {
                    biased;
                    posted = &mut queued => posted,
                    early = &mut answer => {
                        guard.disarm();
                        return match early {
                            Ok(result) => result,
                            Err(_) => Err(Failure::Ipc(self.disconnected_error())),
                        };
                    }
                }
            }
            Err(error) => Err(error),
        };
        match posted {
            Ok(()) => {}
            Err(PostError::Refused(error)) => {
                inner.shared.pending.remove(id);
                guard.disarm();
                return Err(Failure::Ipc(error));
            }
            Err(PostError::Full | PostError::Closed) => {
                inner.shared.pending.remove(id);
                guard.disarm();
                return Err(Failure::Ipc(self.disconnected_error()));
            }
        }
        // The deadline fails the reply slot itself: the call only ever waits for its slot.
        match answer.await {
            // Timed out here: the guard tells main to stop the handler.
            Ok(Err(Failure::Ipc(error @ IpcError::Timeout { .. }))) => Err(Failure::Ipc(error)),
            Ok(result) => {
                guard.disarm();
                result
            }
            // The reply slot was dropped because the connection is closing.
            Err(_) => {
                guard.disarm();
                Err(Failure::Ipc(self.disconnected_error()))
            }
        }
    }
}

/// Tells main to stop a call whose future was dropped (or timed out) before its reply came.
struct CancelOnDrop<'a> {
    renderer: &'a Renderer,
    id: u64,
}

impl CancelOnDrop<'_> {
    /// The call ended with a reply: send no cancel.
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        let inner = &self.renderer.inner;
        inner.shared.pending.remove(self.id);
        let cancel = ToMain::Cancel { id: self.id };
        if let Err(PostError::Full) = inner.outgoing.try_post(cancel) {
            // The queue is full: deliver the cancel as soon as there is room. If no runtime is
            // running, main's deadline for the call still ends it.
            let outgoing = inner.outgoing.clone();
            let id = self.id;
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = outgoing.post(ToMain::Cancel { id }).await;
                });
            }
        }
    }
}
