//! Main's side of one renderer connection: reads its messages, runs its calls concurrently and
//! its sends in order, and cleans up when either side goes away.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::accept::{Inbound, MainWriter, RendererFrames};
use super::{Main, start_call};
use crate::caller::Caller;
use crate::error::IpcError;
use crate::limits::CLOSED_BY_MAIN;
use crate::transport::in_process::MainQueues;
use crate::transport::message::{
    ChannelName, Failure, GuardedCall, ToMain, ToRenderer, handler_outcome,
};
use crate::util::deadline::Deadlines;
use crate::util::panic_message;
use crate::wire::{FramingError, Payload, SenderInfo};

/// Main's end of one renderer connection.
pub(crate) struct MainEnd {
    pub(crate) incoming: FromRenderer,
    /// How every task other than the connection's own reaches the renderer (events, replies of
    /// calls that had to wait, notices). In process the renderer reads this queue itself; on a
    /// frame connection main's connection task drains it into `writer`.
    pub(crate) outgoing: mpsc::Sender<ToRenderer>,
    pub(crate) writer: Option<MainWriter>,
}

impl MainEnd {
    /// Main's end of an in-process connection.
    pub(crate) fn in_process(queues: MainQueues) -> MainEnd {
        MainEnd {
            incoming: FromRenderer::Messages(queues.incoming),
            outgoing: queues.outgoing,
            writer: None,
        }
    }
}

/// What main reads from a renderer.
pub(crate) enum FromRenderer {
    Messages(mpsc::Receiver<ToMain>),
    Frames(RendererFrames),
}

/// Replies written without a flush before the connection task flushes even though more frames
/// are ready (measured: with 64 concurrent callers a call took 1.8 µs with one flush per burst,
/// 1.4 µs with one per 16 replies; 4 to 32 all did about as well).
const FLUSH_AT_LEAST_EVERY: usize = 16;

/// How long main keeps writing to a renderer it is closing (what was queued, the goodbye) before
/// it cuts the connection.
const CLOSING_GRACE: Duration = Duration::from_secs(1);

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
        mut writer,
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
    let deadlines = Deadlines::start(close.clone().cancelled_owned());

    // Built once: a fresh `cancelled()` per iteration would register with the token each time.
    let closed = close.cancelled();
    tokio::pin!(closed);
    let mut last_words = Vec::new();
    // Answers written after what other tasks had queued before them (frame connections).
    let mut backlog = VecDeque::new();
    let reason = loop {
        let event = std::future::poll_fn(|cx| {
            next_event(
                cx,
                closed.as_mut(),
                &mut calls,
                &mut incoming,
                writer.as_mut(),
                &mut backlog,
            )
        })
        .await;
        let message = match event {
            Event::Closed => break CLOSED_BY_MAIN.to_string(),
            Event::CallDone(id) => {
                in_flight.remove(&id);
                continue;
            }
            Event::Queued(message) => {
                if let Some(writer) = &mut writer {
                    if let Err(error) = writer.write(&message) {
                        break format!("cannot write to the renderer: {error}");
                    }
                }
                continue;
            }
            Event::WriteFailed(error) => break format!("cannot write to the renderer: {error}"),
            Event::Inbound(Inbound::Skip) => continue,
            Event::Inbound(Inbound::End { notice, reason }) => {
                if let Some(error) = notice {
                    last_words.push(ToRenderer::Notice { id: None, error });
                }
                break reason;
            }
            Event::Inbound(Inbound::Answer(answer)) => {
                if let Err(reason) =
                    answer_renderer(&mut writer, &mut backlog, &outgoing, answer).await
                {
                    break reason;
                }
                continue;
            }
            Event::Inbound(Inbound::Message(message)) => message,
        };
        // The answer to this message, when main has one right away.
        let answer = match message {
            ToMain::Invoke {
                id,
                channel,
                args,
                timeout,
                sender,
            } => {
                let fail = |error| {
                    Some(ToRenderer::Reply {
                        id,
                        result: Err(Failure::Ipc(error)),
                    })
                };
                match windows.caller(&main, &caller, sender, &channel, &outgoing) {
                    Err(error) => fail(error),
                    Ok(_) if in_flight.contains_key(&id) => fail(IpcError::Protocol {
                        reason: format!("call id {id} is already in flight"),
                    }),
                    Ok(call_caller) => match slots.try_acquire() {
                        Err(_) => fail(IpcError::TooManyInFlight {
                            limit: config.max_in_flight,
                        }),
                        Ok(permit) => match start_call(&main.inner, call_caller, &channel, args) {
                            Err(error) => fail(error),
                            Ok(call) => {
                                // Most handlers finish at their first poll (no I/O): make that
                                // poll here and answer at once, with nothing allocated or armed
                                // for the call; only a call that has to wait becomes a task
                                // (which polls again, registering its real waker).
                                let mut call = AssertUnwindSafe(call).catch_unwind();
                                let mut first_poll = Context::from_waker(Waker::noop());
                                match Pin::new(&mut call).poll(&mut first_poll) {
                                    Poll::Ready(outcome) => {
                                        drop(permit);
                                        let result = handler_outcome(&channel, outcome);
                                        Some(ToRenderer::Reply { id, result })
                                    }
                                    Poll::Pending => {
                                        // Only this task takes slots, so the one just released
                                        // is there to take as an owned permit for the task.
                                        drop(permit);
                                        match slots.clone().try_acquire_owned() {
                                            Err(_) => fail(IpcError::TooManyInFlight {
                                                limit: config.max_in_flight,
                                            }),
                                            Ok(slot) => {
                                                let run = run_call(
                                                    id,
                                                    channel,
                                                    call,
                                                    timeout,
                                                    deadlines.clone(),
                                                    slot,
                                                );
                                                let outgoing = outgoing.clone();
                                                let handle = calls.spawn(async move {
                                                    // A closed queue means the renderer is gone;
                                                    // the connection task cleans up.
                                                    let _ = outgoing.send(run.await).await;
                                                    id
                                                });
                                                in_flight.insert(id, handle);
                                                None
                                            }
                                        }
                                    }
                                }
                            }
                        },
                    },
                }
            }
            ToMain::Cancel { id } => {
                if let Some(handle) = in_flight.remove(&id) {
                    handle.abort();
                }
                None
            }
            ToMain::Send {
                channel,
                args,
                sender,
            } => match windows.caller(&main, &caller, sender, &channel, &outgoing) {
                Ok(send_caller) => {
                    let send_caller = send_caller.clone();
                    if send_queue.send((channel, args, send_caller)).await.is_err() {
                        break "send listener task ended".to_string();
                    }
                    None
                }
                Err(error) => {
                    tracing::warn!(renderer = %caller.id, %error, "send refused");
                    Some(ToRenderer::Notice { id: None, error })
                }
            },
            ToMain::Detach { sender } => {
                if let Some(window) = windows.known.remove(&sender) {
                    main.forget_renderer(window.id);
                }
                None
            }
        };
        if let Some(reply) = answer {
            if let Err(reason) = answer_renderer(&mut writer, &mut backlog, &outgoing, reply).await
            {
                break reason;
            }
        }
    };
    tracing::debug!(renderer = %caller.id, %reason, "connection closed");
    calls.abort_all();
    // Sends main already took from a renderer that went away are still handled: closing the
    // queue lets the listener task drain it and end. Main closing the connection stops them.
    drop(send_queue);
    if reason == CLOSED_BY_MAIN {
        listeners.abort();
    }
    main.forget_renderer(caller.id);
    for window in windows.known.values() {
        main.forget_renderer(window.id);
    }
    // Stops the deadline sweeper, and tells in-process callers the connection is gone.
    close.cancel();
    last_words.push(ToRenderer::Goodbye { reason });
    match writer {
        Some(writer) => writer.finish(backlog, last_words, CLOSING_GRACE).await,
        None => {
            for message in last_words {
                let _ = outgoing.try_send(message);
            }
        }
    }
}

/// What woke the connection task.
enum Event {
    Closed,
    CallDone(u64),
    /// A message another task queued for the renderer (frame connections).
    Queued(ToRenderer),
    Inbound(Inbound),
    WriteFailed(FramingError),
}

/// Polls everything the connection task waits on, in priority order. While the writer cannot
/// take another message (the renderer is not reading), neither the queue nor the renderer is
/// read: main stops taking work from a renderer it cannot answer. Written frames are flushed
/// once nothing else is ready, so a burst of replies shares one write.
fn next_event(
    cx: &mut Context<'_>,
    closed: Pin<&mut WaitForCancellationFuture<'_>>,
    calls: &mut JoinSet<u64>,
    incoming: &mut FromRenderer,
    mut writer: Option<&mut MainWriter>,
    backlog: &mut VecDeque<ToRenderer>,
) -> Poll<Event> {
    if closed.poll(cx).is_ready() {
        return Poll::Ready(Event::Closed);
    }
    // Until pending, so the set has our waker for the next call to finish. (An aborted call is
    // already out of the in-flight map.)
    while let Poll::Ready(Some(done)) = calls.poll_join_next(cx) {
        if let Ok(id) = done {
            return Poll::Ready(Event::CallDone(id));
        }
    }
    if let Some(writer) = writer.as_deref_mut() {
        match writer.poll_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(error)) => return Poll::Ready(Event::WriteFailed(error)),
            Poll::Pending => return Poll::Pending,
        }
        // A long burst is flushed in parts, so that the renderer starts on the first replies
        // while this task works on the rest (the two sides overlap instead of taking turns).
        if writer.unflushed() >= FLUSH_AT_LEAST_EVERY {
            if let Poll::Ready(Err(error)) = writer.poll_flush(cx) {
                return Poll::Ready(Event::WriteFailed(error));
            }
        }
        if let Some(message) = backlog.pop_front() {
            return Poll::Ready(Event::Queued(message));
        }
        if let Poll::Ready(Some(message)) = writer.queue.poll_recv(cx) {
            return Poll::Ready(Event::Queued(message));
        }
    }
    let inbound = match incoming {
        FromRenderer::Frames(reader) => reader.poll_inbound(cx),
        FromRenderer::Messages(queue) => queue.poll_recv(cx).map(|message| match message {
            Some(message) => Inbound::Message(message),
            None => Inbound::End {
                notice: None,
                reason: "renderer disconnected".into(),
            },
        }),
    };
    if let Poll::Ready(inbound) = inbound {
        return Poll::Ready(Event::Inbound(inbound));
    }
    if let Some(writer) = writer {
        if let Poll::Ready(Err(error)) = writer.poll_flush(cx) {
            return Poll::Ready(Event::WriteFailed(error));
        }
    }
    Poll::Pending
}

/// Answers the renderer from the connection task: on a frame connection written in place, or,
/// when other tasks have queued messages for the renderer, after them (a handler's events go out
/// before its reply); queued in process. Only called when the writer is ready for one message.
/// `Err` is the reason to close.
async fn answer_renderer(
    writer: &mut Option<MainWriter>,
    backlog: &mut VecDeque<ToRenderer>,
    outgoing: &mpsc::Sender<ToRenderer>,
    answer: ToRenderer,
) -> Result<(), String> {
    match writer {
        Some(writer) if backlog.is_empty() && writer.queue.is_empty() => writer
            .write(&answer)
            .map_err(|error| format!("cannot write to the renderer: {error}")),
        Some(writer) => {
            while let Ok(queued) = writer.queue.try_recv() {
                backlog.push_back(queued);
            }
            backlog.push_back(answer);
            Ok(())
        }
        None => outgoing
            .send(answer)
            .await
            .map_err(|_| "renderer disconnected".to_string()),
    }
}

/// Runs a call that did not finish at its first poll to its reply, within its deadline (armed
/// only now: most calls never wait, and for them a deadline is pure cost).
async fn run_call(
    id: u64,
    channel: ChannelName,
    call: GuardedCall,
    timeout: Option<Duration>,
    deadlines: Arc<Deadlines>,
    slot: OwnedSemaphorePermit,
) -> ToRenderer {
    let result = match timeout {
        None => handler_outcome(&channel, call.await),
        Some(limit) => {
            let mut deadline = deadlines.register(id, limit);
            tokio::select! {
                outcome = call => handler_outcome(&channel, outcome),
                () = deadline.expired() => Err(Failure::Ipc(IpcError::Timeout {
                    channel: channel.to_string(),
                    after: limit,
                })),
            }
        }
    };
    // The slot is freed before the reply is handed over (not when the connection task next
    // collects the finished task), so a caller that waits for each reply never sees a stale
    // `TooManyInFlight`.
    drop(slot);
    ToRenderer::Reply { id, result }
}

/// The windows behind a bridge connection, by the bridge's id for them.
struct Windows {
    bridge: bool,
    known: HashMap<u64, Caller>,
}

impl Windows {
    /// The caller of a frame: the connection itself, or the window the bridge named.
    fn caller<'a>(
        &'a mut self,
        main: &Main,
        connection: &'a Caller,
        sender: Option<SenderInfo>,
        channel: &str,
        outgoing: &mpsc::Sender<ToRenderer>,
    ) -> Result<&'a Caller, IpcError> {
        let Some(sender) = sender else {
            return Ok(connection);
        };
        if !self.bridge {
            return Err(IpcError::Forbidden {
                channel: channel.to_string(),
                reason: "only a bridge connection may name the sender of a call".into(),
            });
        }
        let known = self.known.get(&sender.id);
        let unchanged = known.is_some_and(|window| {
            window.origin() == sender.origin.as_deref()
                && window.frame_url() == sender.url.as_deref()
        });
        if !unchanged {
            let window = main.register_window(
                connection,
                &sender,
                known.map(Caller::renderer),
                outgoing.clone(),
            );
            self.known.insert(sender.id, window);
        }
        Ok(&self.known[&sender.id])
    }
}

async fn run_listeners(
    main: Main,
    mut queue: mpsc::Receiver<(ChannelName, Payload, Caller)>,
    outgoing: mpsc::Sender<ToRenderer>,
) {
    while let Some((channel, args, caller)) = queue.recv().await {
        let mut told = false;
        let listeners = main.inner.take_listeners(&channel);
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
