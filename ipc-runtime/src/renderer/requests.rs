//! Main's requests to this renderer (`docs/PROTOCOL.md` §7.2): the renderer's handlers, and the
//! requests running, which main can cancel.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::task::AbortHandle;

use super::end::{Answers, PostError};
use crate::error::{IpcError, RegistryError};
use crate::transport::message::{CallResult, ChannelName, Failure, ToMain, handler_outcome};
use crate::util::{BoxFuture, lock};
use crate::wire::Payload;

/// A request handler with its types erased: decodes the arguments and starts the call.
type RequestFn = Arc<dyn Fn(Payload) -> Result<BoxFuture<CallResult>, String> + Send + Sync>;

#[derive(Default)]
pub(crate) struct RequestHandlers {
    handlers: Mutex<HashMap<String, RequestFn>>,
    /// Requests running, by main's id: main may cancel them.
    running: Mutex<HashMap<u64, AbortHandle>>,
}

impl RequestHandlers {
    /// Registers `handler` for `channel`.
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] when the channel has a handler.
    pub(crate) fn add<A, T, E, F, Fut>(
        &self,
        channel: &str,
        handler: F,
    ) -> Result<(), RegistryError>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut handlers = lock(&self.handlers);
        if handlers.contains_key(channel) {
            return Err(RegistryError::AlreadyHandled {
                channel: channel.to_string(),
            });
        }
        let erased: RequestFn = Arc::new(move |args: Payload| {
            let args: A = args.take()?;
            let call = handler(args);
            Ok(Box::pin(async move {
                match call.await {
                    Ok(value) => Ok(Payload::value(value)),
                    Err(error) => Err(Failure::App(Payload::value(error))),
                }
            }) as BoxFuture<CallResult>)
        });
        handlers.insert(channel.to_string(), erased);
        Ok(())
    }

    /// Removes the handler of `channel`; `false` when there was none.
    pub(crate) fn remove(&self, channel: &str) -> bool {
        lock(&self.handlers).remove(channel).is_some()
    }

    /// Runs main's request `id` and sends the answer (unless main cancels it first).
    pub(crate) fn start(
        self: &Arc<Self>,
        id: u64,
        channel: ChannelName,
        args: Payload,
        timeout: Option<Duration>,
        answers: Answers,
    ) {
        if lock(&self.running).contains_key(&id) {
            // Main's own fault (or a hostile main's): answered as main answers a renderer's
            // duplicate call id, and the request already running keeps its id.
            let error = IpcError::Protocol {
                reason: format!("request id {id} is already running"),
            };
            tokio::spawn(answer(answers, id, Err(Failure::Ipc(error))));
            return;
        }
        let handler = lock(&self.handlers).get(channel.as_ref()).cloned();
        let started = match handler {
            None => Err(Failure::Ipc(IpcError::NoHandler {
                channel: channel.to_string(),
            })),
            Some(handler) => match std::panic::catch_unwind(AssertUnwindSafe(|| handler(args))) {
                Ok(Ok(call)) => Ok(call),
                Ok(Err(reason)) => Err(Failure::Ipc(IpcError::BadArguments {
                    channel: channel.to_string(),
                    reason,
                })),
                Err(panic) => Err(Failure::Ipc(IpcError::HandlerPanicked {
                    channel: channel.to_string(),
                    message: crate::util::panic_message(&*panic),
                })),
            },
        };
        let call = match started {
            Ok(call) => call,
            Err(failure) => {
                tokio::spawn(answer(answers, id, Err(failure)));
                return;
            }
        };
        let handlers = self.clone();
        // Held while the task is spawned and tracked, so that it cannot untrack itself first.
        let mut running = lock(&self.running);
        let task = tokio::spawn(async move {
            let outcome = AssertUnwindSafe(call).catch_unwind();
            let result = match timeout {
                None => handler_outcome(&channel, outcome.await),
                Some(after) => match tokio::time::timeout(after, outcome).await {
                    Ok(outcome) => handler_outcome(&channel, outcome),
                    Err(_) => Err(Failure::Ipc(IpcError::Timeout {
                        channel: channel.to_string(),
                        after,
                    })),
                },
            };
            lock(&handlers.running).remove(&id);
            answer(answers, id, result).await;
        });
        running.insert(id, task.abort_handle());
    }

    /// Main no longer waits for request `id`: its handler is dropped.
    pub(crate) fn cancel(&self, id: u64) {
        if let Some(task) = lock(&self.running).remove(&id) {
            task.abort();
        }
    }

    /// The connection ended: every request still running is dropped.
    pub(crate) fn close(&self) {
        for (_, task) in lock(&self.running).drain() {
            task.abort();
        }
    }
}

/// Sends the answer to request `id`; an answer that cannot be sent (it does not encode, or is too
/// large for main) is replaced by the error.
async fn answer(answers: Answers, id: u64, result: CallResult) {
    let reply = ToMain::Reply { id, result };
    if let Err(PostError::Refused(error)) = answers.post(reply).await {
        let failed = ToMain::Reply {
            id,
            result: Err(Failure::Ipc(error)),
        };
        let _ = answers.post(failed).await;
    }
}
