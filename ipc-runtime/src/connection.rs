//! Main's side of one renderer connection: reads its messages, runs its calls concurrently and
//! its sends in order, and cleans up when either side goes away.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::caller::Caller;
use crate::deadline::{Deadline, Deadlines};
use crate::error::IpcError;
use crate::message::{CallResult, ChannelName, Failure, SenderInfo, ToMain, ToRenderer};
use crate::payload::Payload;
use crate::router::{Main, no_handler, panic_message};
use crate::transport::MainEnd;

/// Where the outcome of one call goes: the connection's outgoing queue, tagged with its id.
/// (In-process renderers run their calls themselves, see `Renderer::call_local`.)
struct ReplyTo {
    id: u64,
    outgoing: mpsc::Sender<ToRenderer>,
}

impl ReplyTo {
    async fn deliver(self, result: CallResult) {
        // A closed queue means the renderer is gone; the connection task cleans up.
        let _ = self
            .outgoing
            .send(ToRenderer::Reply {
                id: self.id,
                result,
            })
            .await;
    }
}

pub(crate) async fn serve(
    main: Main,
    caller: Caller,
    end: MainEnd,
    close: CancellationToken,
    bridge: bool,
    slots: Arc<Semaphore>,
) {
    let MainEnd {
        mut incoming,
        outgoing,
    } = end;
    let config = main.inner.config.clone();
    let (send_queue, send_rx) = mpsc::channel(config.send_queue_capacity);
    let listeners = tokio::spawn(run_listeners(main.clone(), send_rx, outgoing.clone()));
    // The windows a bridge connection has named, each a renderer of its own on main.
    let mut windows = Windows {
        bridge,
        known: HashMap::new(),
    };
    let mut calls: JoinSet<u64> = JoinSet::new();
    let mut in_flight: HashMap<u64, AbortHandle> = HashMap::new();
    // A call's slot is freed the moment its reply is handed over (not when this loop next
    // collects the finished task), so a caller that waits for each reply never sees a stale
    // `TooManyInFlight`.

    let deadlines = Deadlines::start(close.clone().cancelled_owned());

    // Built once: a fresh `cancelled()` per iteration would register with the token each time.
    let closed = close.cancelled();
    tokio::pin!(closed);
    let reason = loop {
        tokio::select! {
            biased;
            () = &mut closed => break "closed by main",
            Some(done) = calls.join_next(), if !calls.is_empty() => {
                if let Ok(id) = done {
                    in_flight.remove(&id);
                }
            }
            message = incoming.recv() => match message {
                None => break "renderer disconnected",
                Some(ToMain::Invoke { id, channel, args, timeout, sender }) => {
                    let reply_to = ReplyTo { id, outgoing: outgoing.clone() };
                    let call_caller = match windows.caller(&main, &caller, sender, &channel, &outgoing) {
                        Ok(call_caller) => call_caller,
                        Err(error) => {
                            reply_to.deliver(Err(Failure::Ipc(error))).await;
                            continue;
                        }
                    };
                    if in_flight.contains_key(&id) {
                        let error = IpcError::Protocol { reason: format!("call id {id} is already in flight") };
                        reply_to.deliver(Err(Failure::Ipc(error))).await;
                        continue;
                    }
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        let error = IpcError::TooManyInFlight { limit: config.max_in_flight };
                        reply_to.deliver(Err(Failure::Ipc(error))).await;
                        continue;
                    };
                    match prepare_call(&main, &call_caller, &channel, args) {
                        Ok(call) => {
                            // In process the caller's own deadline drops the reply receiver,
                            // which stops the handler; a second timer here would be redundant.
                            let deadline = timeout.map(|limit| (limit, deadlines.register(id, limit)));
                            // Most handlers finish at their first poll (no I/O): run that poll
                            // here and spawn a task only for calls that have to wait. The
                            // spawned task polls again, registering its real waker.
                            let mut run = Box::pin(run_call(id, channel, call, deadline, reply_to, slot));
                            let mut first_poll = Context::from_waker(Waker::noop());
                            if run.as_mut().poll(&mut first_poll).is_pending() {
                                let handle = calls.spawn(run);
                                in_flight.insert(id, handle);
                            }
                        }
                        Err(error) => reply_to.deliver(Err(Failure::Ipc(error))).await,
                    }
                }
                Some(ToMain::Cancel { id }) => {
                    if let Some(handle) = in_flight.remove(&id) {
                        handle.abort();
                    }
                }
                Some(ToMain::Send { channel, args, sender }) => {
                    let send_caller = match windows.caller(&main, &caller, sender, &channel, &outgoing) {
                        Ok(send_caller) => send_caller,
                        Err(error) => {
                            tracing::warn!(renderer = %caller.id, %error, "send refused");
                            let _ = outgoing.send(ToRenderer::Notice { id: None, error }).await;
                            continue;
                        }
                    };
                    if send_queue.send((channel, args, send_caller)).await.is_err() {
                        break "send listener task ended";
                    }
                }
                Some(ToMain::Detach { sender }) => {
                    if let Some(window) = windows.known.remove(&sender) {
                        main.forget_renderer(window.id);
                    }
                }
            }
        }
    };
    tracing::debug!(renderer = %caller.id, reason, "connection closed");
    let _ = outgoing.try_send(ToRenderer::Goodbye {
        reason: reason.to_string(),
    });
    calls.abort_all();
    // Sends main already took from a renderer that went away are still handled: closing the
    // queue lets the listener task drain it and end. Main closing the connection stops them.
    drop(send_queue);
    if reason == "closed by main" {
        listeners.abort();
    }
    main.forget_renderer(caller.id);
    for window in windows.known.values() {
        main.forget_renderer(window.id);
    }
    // Stops the connection's transport pumps too.
    close.cancel();
}

pub(crate) fn prepare_call(
    main: &Main,
    caller: &Caller,
    channel: &str,
    args: Payload,
) -> Result<crate::router::BoxFuture<CallResult>, IpcError> {
    let handler = main
        .take_handler(channel)
        .ok_or_else(|| no_handler(channel))?;
    // A handler may panic before it returns its future (a closure that does work up front);
    // that must fail this call only, like a panic inside the future.
    match std::panic::catch_unwind(AssertUnwindSafe(|| handler(caller.clone(), args))) {
        Ok(Ok(call)) => Ok(call),
        Ok(Err(reason)) => Err(IpcError::BadArguments {
            channel: channel.to_string(),
            reason,
        }),
        Err(panic) => Err(IpcError::HandlerPanicked {
            channel: channel.to_string(),
            message: panic_message(&*panic),
        }),
    }
}

async fn run_call(
    id: u64,
    channel: ChannelName,
    call: crate::router::BoxFuture<CallResult>,
    deadline: Option<(Duration, Deadline)>,
    reply_to: ReplyTo,
    slot: OwnedSemaphorePermit,
) -> u64 {
    let guarded = AssertUnwindSafe(call).catch_unwind();
    let work = async {
        let outcome = match deadline {
            Some((limit, mut deadline)) => {
                tokio::select! {
                    outcome = guarded => Ok(outcome),
                    () = deadline.expired() => Err(limit),
                }
            }
            None => Ok(guarded.await),
        };
        match outcome {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => {
                let message = panic_message(&*panic);
                tracing::error!(%channel, %message, "handler panicked");
                Err(Failure::Ipc(IpcError::HandlerPanicked {
                    channel: channel.to_string(),
                    message,
                }))
            }
            Err(after) => Err(Failure::Ipc(IpcError::Timeout {
                channel: channel.to_string(),
                after,
            })),
        }
    };
    let result = work.await;
    drop(slot);
    reply_to.deliver(result).await;
    id
}

/// The windows behind a bridge connection, by the bridge's id for them.
struct Windows {
    bridge: bool,
    known: HashMap<u64, Caller>,
}

impl Windows {
    /// The caller of a frame: the connection itself, or the window the bridge named.
    fn caller(
        &mut self,
        main: &Main,
        connection: &Caller,
        sender: Option<SenderInfo>,
        channel: &str,
        outgoing: &mpsc::Sender<ToRenderer>,
    ) -> Result<Caller, IpcError> {
        let Some(sender) = sender else {
            return Ok(connection.clone());
        };
        if !self.bridge {
            return Err(IpcError::Forbidden {
                channel: channel.to_string(),
                reason: "only a bridge connection may name the sender of a call".into(),
            });
        }
        let known = self.known.get(&sender.id);
        if let Some(window) = known {
            if window.origin() == sender.origin.as_deref()
                && window.frame_url() == sender.url.as_deref()
            {
                return Ok(window.clone());
            }
        }
        let window = main.register_window(
            connection,
            &sender,
            known.map(Caller::renderer),
            outgoing.clone(),
        );
        self.known.insert(sender.id, window.clone());
        Ok(window)
    }
}

async fn run_listeners(
    main: Main,
    mut queue: mpsc::Receiver<(ChannelName, Payload, Caller)>,
    outgoing: mpsc::Sender<ToRenderer>,
) {
    while let Some((channel, args, caller)) = queue.recv().await {
        let mut told = false;
        let listeners = main.take_listeners(&channel);
        if listeners.is_empty() {
            tracing::warn!(renderer = %caller.id, %channel, "send to a channel nobody listens to");
            continue;
        }
        for listener in listeners {
            let Some(args) = args.try_clone() else {
                tracing::error!(%channel, "send payload cannot be shared between listeners");
                break;
            };
            let run = match std::panic::catch_unwind(AssertUnwindSafe(|| {
                listener(caller.clone(), args)
            })) {
                Ok(Ok(run)) => run,
                Ok(Err(reason)) => {
                    tracing::warn!(renderer = %caller.id, %channel, %reason, "bad send arguments");
                    // A send has no reply, so the sender hears of it as an error frame (once per
                    // send). Never waited for: a renderer that stops reading only misses it.
                    if !told {
                        told = true;
                        let error = IpcError::BadArguments {
                            channel: channel.to_string(),
                            reason,
                        };
                        let _ = outgoing.try_send(ToRenderer::Notice { id: None, error });
                    }
                    continue;
                }
                Err(panic) => {
                    tracing::error!(%channel, message = %panic_message(&*panic), "send listener panicked");
                    continue;
                }
            };
            if let Err(panic) = AssertUnwindSafe(run).catch_unwind().await {
                tracing::error!(%channel, message = %panic_message(&*panic), "send listener panicked");
            }
        }
    }
}
