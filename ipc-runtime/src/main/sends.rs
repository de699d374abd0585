//! Entering a renderer's sends: every listener of the channel is called and its future polled
//! once, in the task that reads the renderer's messages (or, in process, the caller's task), so a
//! send enters before whatever the renderer issued after it. Listeners that have to wait then run
//! concurrently, at most `max_sends_running` sends' worth per renderer.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_util::FutureExt;
use futures_util::future::join_all;
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::Main;
use crate::caller::Caller;
use crate::error::IpcError;
use crate::transport::message::ChannelName;
use crate::util::{BoxFuture, panic_message};
use crate::wire::Payload;

/// Runs the listeners of one connection's sends.
#[derive(Clone)]
pub(crate) struct SendRunner {
    /// One permit per send whose listeners are still running.
    slots: Arc<Semaphore>,
    limit: usize,
    /// Cancelled when main closes the connection: running listeners are dropped. (When the
    /// renderer goes away they run to their end.)
    stop: CancellationToken,
    runtime: Handle,
}

impl SendRunner {
    /// A runner allowing `limit` running sends; must be made inside a Tokio runtime.
    pub(crate) fn new(limit: usize, stop: CancellationToken) -> Self {
        SendRunner {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            stop,
            runtime: Handle::current(),
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    pub(crate) fn slots(&self) -> &Arc<Semaphore> {
        &self.slots
    }

    /// A slot for one more send, if one is free.
    pub(crate) fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Enters a send of `channel` (holding `slot`): every listener is called and polled once,
    /// here; those that have to wait run on as one task that frees the slot when they are done.
    ///
    /// # Errors
    ///
    /// `BadArguments` when a listener cannot take the arguments (the others still run).
    pub(crate) fn enter(
        &self,
        main: &Main,
        caller: &Caller,
        channel: &ChannelName,
        args: Payload,
        slot: OwnedSemaphorePermit,
    ) -> Result<(), IpcError> {
        let listeners = main.inner.take_listeners(caller, channel)?;
        if listeners.is_empty() {
            tracing::warn!(renderer = %caller.renderer(), %channel, "send to a channel nobody listens to");
            return Ok(());
        }
        let mut bad_arguments = None;
        let mut waiting = Vec::new();
        for listener in listeners {
            let Some(args) = args.try_clone() else {
                tracing::error!(%channel, "send payload cannot be shared between listeners");
                break;
            };
            let started =
                std::panic::catch_unwind(AssertUnwindSafe(|| listener(caller.clone(), args)));
            let run = match started {
                Ok(Ok(run)) => run,
                Ok(Err(reason)) => {
                    tracing::warn!(renderer = %caller.renderer(), %channel, %reason, "bad send arguments");
                    bad_arguments.get_or_insert(IpcError::BadArguments {
                        channel: channel.to_string(),
                        reason,
                    });
                    continue;
                }
                Err(panic) => {
                    report_panic(channel, &*panic);
                    continue;
                }
            };
            if let Some(rest) = first_poll(channel, run) {
                waiting.push(rest);
            }
        }
        if !waiting.is_empty() {
            let stop = self.stop.clone();
            self.runtime.spawn(async move {
                let _slot = slot;
                tokio::select! {
                    biased;
                    () = stop.cancelled() => {}
                    _ = join_all(waiting) => {}
                }
            });
        }
        match bad_arguments {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Polls a listener once (its entry); the rest of it, panics caught, if it has to wait.
fn first_poll(channel: &ChannelName, run: BoxFuture<()>) -> Option<BoxFuture<()>> {
    let mut run = AssertUnwindSafe(run).catch_unwind();
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut run).poll(&mut cx) {
        Poll::Ready(Ok(())) => None,
        Poll::Ready(Err(panic)) => {
            report_panic(channel, &*panic);
            None
        }
        Poll::Pending => {
            let channel = channel.clone();
            Some(Box::pin(async move {
                if let Err(panic) = run.await {
                    report_panic(&channel, &*panic);
                }
            }))
        }
    }
}

fn report_panic(channel: &str, panic: &(dyn std::any::Any + Send)) {
    tracing::error!(%channel, message = %panic_message(panic), "send listener panicked");
}
