//! Main's side of one renderer connection: enters the renderer's messages in the order they came
//! (an invoke's handler is polled once here, then runs as a task if it has to wait; a send's
//! listeners go through the send runner), writes main's messages to it, and cleans up when either
//! side goes away, whatever way that happens.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinError, JoinSet};
use tokio_util::sync::{CancellationToken, PollSemaphore};

use super::accept::{Inbound, MainWriter, RendererFrames};
use super::authorize::RendererHolder;
use super::heartbeat::{Beat, Heartbeat};
use super::requests::PendingRequests;
use super::sends::SendRunner;
use super::{Main, start_call};
use crate::caller::{Caller, Peer};
use crate::error::IpcError;
use crate::port::{ConnPorts, Recipient};
use crate::transport::in_process::MainQueues;
use crate::transport::mailbox::{Mail, Mailbox};
use crate::transport::message::{
    ChannelName, Failure, GuardedCall, ToMain, ToRenderer, handler_outcome,
};
use crate::util::closer::Closer;
use crate::util::deadline::Deadlines;
use crate::util::peer_ids::PeerIds;
use crate::util::slots::Slot;
use crate::wire::{FrameBytes, FramingError, Payload, SenderInfo};

/// Replies written without a flush before the connection task flushes even though more frames
/// are ready (measured: with 64 concurrent callers a call took 1.8 µs with one flush per burst,
/// 1.4 µs with one per 16 replies; 4 to 32 all did about as well).
const FLUSH_AT_LEAST_EVERY: usize = 16;

/// How long main keeps writing to a renderer it is closing (what was queued, the goodbye) before
/// it cuts the connection.
const CLOSING_GRACE: Duration = Duration::from_secs(1);

/// Main's end of one renderer connection.
pub(crate) struct MainEnd {
    pub(crate) incoming: FromRenderer,
    /// What main sends the renderer, in order (replies, events, notices). In process the
    /// renderer reads it itself; on a frame connection this task writes it out.
    pub(crate) outgoing: Arc<Mailbox>,
    pub(crate) writer: Option<MainWriter>,
    /// The connection limits' slots it holds until it ends (none in process).
    pub(crate) slots: Vec<Slot>,
    /// Its ports (frame connections: in process, ends move as values).
    pub(crate) ports: Option<Arc<ConnPorts>>,
}

impl MainEnd {
    /// Main's end of an in-process connection.
    pub(crate) fn in_process(queues: MainQueues) -> MainEnd {
        MainEnd {
            incoming: FromRenderer::Messages(queues.incoming),
            outgoing: queues.outgoing,
            writer: None,
            slots: Vec::new(),
            ports: None,
        }
    }
}

/// What main reads from a renderer.
pub(crate) enum FromRenderer {
    Messages(mpsc::Receiver<ToMain>),
    Frames(RendererFrames),
}

/// Everything one connection's task needs.
pub(crate) struct Connection {
    pub(crate) main: Main,
    pub(crate) caller: Caller,
    pub(crate) end: MainEnd,
    pub(crate) closer: Arc<Closer>,
    pub(crate) bridge: bool,
    /// One permit per call in flight (shared with an in-process renderer's route).
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) max_in_flight: usize,
    pub(crate) sends: SendRunner,
    /// Cancelled when main closes the connection (not when the renderer leaves): running
    /// listeners stop then.
    pub(crate) stop_listeners: CancellationToken,
    /// Main's hello, written before anything else (frame connections).
    pub(crate) hello: Option<FrameBytes>,
    /// Main's requests in flight on this connection.
    pub(crate) requests: Arc<PendingRequests>,
}

/// A call running as a task.
struct Flight {
    abort: AbortHandle,
    /// The window behind a bridge that made it.
    window: Option<u64>,
}

/// A send that waits for a free slot (main reads nothing more from the renderer meanwhile).
struct ParkedSend {
    channel: ChannelName,
    args: Payload,
    caller: Caller,
}

/// Cleans up after the connection task however it ends, a panic included: the renderer is
/// forgotten, in-process callers learn the connection is gone, and the renderer hears why.
struct Cleanup {
    main: Main,
    caller: Caller,
    closer: Arc<Closer>,
    mailbox: Arc<Mailbox>,
    reason: Option<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let reason = self
            .reason
            .take()
            .unwrap_or_else(|| "main's connection task failed".to_string());
        self.main.forget_renderer(self.caller.renderer(), &reason);
        self.closer.close(reason.clone());
        self.mailbox.push(ToRenderer::Goodbye { reason, to: None });
        self.mailbox.close();
    }
}

pub(crate) async fn serve(connection: Connection) {
    let Connection {
        main,
        caller,
        end,
        closer,
        bridge,
        slots,
        max_in_flight,
        sends,
        stop_listeners,
        hello,
        requests,
    } = connection;
    let MainEnd {
        mut incoming,
        outgoing: mailbox,
        mut writer,
        slots: connection_slots,
        ports,
    } = end;
    if let Some(ports) = &ports {
        // Before anything is written: every handle main hands over here is held by this
        // renderer (or, on a bridge, by one of its windows).
        ports.set_holder(Arc::new(RendererHolder::connection(
            caller.clone(),
            bridge,
            Arc::downgrade(&main.inner),
        )));
    }
    let mut cleanup = Cleanup {
        main: main.clone(),
        caller: caller.clone(),
        closer: closer.clone(),
        mailbox: mailbox.clone(),
        reason: None,
    };
    let mut windows = Windows {
        bridge,
        known: HashMap::new(),
        closed: HashSet::new(),
        max_in_flight,
        max_sends_running: sends.limit(),
        max_windows: main.max_connections(),
        stop_listeners: stop_listeners.clone(),
    };
    let mut calls: JoinSet<u64> = JoinSet::new();
    let mut in_flight: HashMap<u64, Flight, PeerIds> = HashMap::default();
    let mut call_of_task: HashMap<tokio::task::Id, u64> = HashMap::new();
    let deadlines = Deadlines::start(closer.token().clone().cancelled_owned());
    let mut send_slots = PollSemaphore::new(sends.slots().clone());
    let mut parked: Option<ParkedSend> = None;

    // Built once: a fresh `closed()` per iteration would register with the token each time.
    let closed = closer.closed();
    tokio::pin!(closed);
    let mut watch = CloseWatch {
        closer: &closer,
        closed,
        events: 0,
    };
    let mut last_words = Vec::new();
    let mut main_closed_it = false;
    // Only peers across processes can go silent without their connection ending.
    let mut heartbeat = match (&writer, main.inner.config.heartbeat) {
        (Some(_), Some((interval, timeout))) => Some(Heartbeat::start(interval, timeout)),
        _ => None,
    };
    let hello_written = match (&mut writer, hello) {
        (Some(writer), Some(hello)) => writer.write_frame(hello),
        _ => Ok(()),
    };
    let reason = loop {
        if let Err(error) = &hello_written {
            break format!("cannot write to the renderer: {error}");
        }
        let send_parked = parked.is_some();
        let event = std::future::poll_fn(|cx| {
            next_event(
                cx,
                &mut watch,
                &mut calls,
                &mut incoming,
                writer.as_mut(),
                &mailbox,
                send_parked,
                &mut send_slots,
                heartbeat.as_mut(),
            )
        })
        .await;
        if let (Event::Inbound(_), Some(heartbeat)) = (&event, &mut heartbeat) {
            heartbeat.heard();
        }
        let message = match event {
            Event::Closed => {
                main_closed_it = true;
                break closer.reason().to_string();
            }
            Event::CallEnded(Ok(task)) => {
                if let Some(id) = call_of_task.remove(&task) {
                    forget_flight(&mut in_flight, id, task);
                }
                continue;
            }
            Event::CallEnded(Err(error)) => {
                call_failed(&mut call_of_task, &mut in_flight, &mailbox, error);
                continue;
            }
            Event::Out(mail) => {
                let Some(writer) = &mut writer else {
                    continue;
                };
                let written = match mail {
                    Mail::Message(message) => {
                        let recipient = recipient(&message, Some(&windows));
                        writer.write(&message, recipient)
                    }
                    Mail::Lag(missed) => missed.into_iter().try_for_each(|missed| {
                        writer.write(
                            &ToRenderer::Lag {
                                channel: missed.channel,
                                missed: missed.count,
                                to: missed.to,
                                except: missed.except,
                            },
                            None,
                        )
                    }),
                    Mail::CloseWindow { window, reason } => {
                        windows.close(&main, window, &reason);
                        requests.close_window(window, &reason);
                        abort_window_calls(&mut in_flight, window);
                        writer.write(
                            &ToRenderer::Goodbye {
                                reason,
                                to: Some(window),
                            },
                            None,
                        )
                    }
                };
                if let Err(error) = written {
                    break format!("cannot write to the renderer: {error}");
                }
                continue;
            }
            Event::WriteFailed(error) => break format!("cannot write to the renderer: {error}"),
            Event::Heartbeat(Beat::Ping(id)) => {
                mailbox.push(ToRenderer::Ping { id });
                continue;
            }
            Event::Heartbeat(Beat::Silent(reason)) => break reason,
            Event::Chunk => {
                if let Some(writer) = &mut writer {
                    if let Err(error) = writer.write_chunk() {
                        break format!("cannot write to the renderer: {error}");
                    }
                }
                continue;
            }
            Event::SendSlot(slot) => {
                if let Some(send) = parked.take() {
                    let entered = sends.enter(&main, &send.caller, &send.channel, send.args, slot);
                    if let Err(error) = entered {
                        answer(
                            &mut writer,
                            &mailbox,
                            ToRenderer::Notice { id: None, error },
                        );
                    }
                }
                continue;
            }
            Event::Inbound(Inbound::Skip) => continue,
            Event::Inbound(Inbound::End { notice, reason }) => {
                if let Some(error) = notice {
                    last_words.push(ToRenderer::Notice { id: None, error });
                }
                break reason;
            }
            Event::Inbound(Inbound::Answer(reply)) => {
                answer(&mut writer, &mailbox, reply);
                continue;
            }
            Event::Inbound(Inbound::Message(message)) => message,
        };
        // The answer to this message, when main has one right away.
        let reply = match message {
            ToMain::Invoke {
                id,
                channel,
                args,
                timeout,
                sender,
            } => {
                let window = sender.as_ref().map(|s| s.id);
                let fail = |error| {
                    Some(ToRenderer::Reply {
                        id,
                        result: Err(Failure::Ipc(error)),
                        window: None,
                    })
                };
                let connection = Route {
                    caller: &caller,
                    calls: &slots,
                    sends: &sends,
                };
                match windows.route(&main, connection, sender, &channel) {
                    Err(error) => fail(error),
                    Ok(_) if in_flight.contains_key(&id) => fail(IpcError::Protocol {
                        reason: format!("call id {id} is already in flight"),
                    }),
                    Ok(Route {
                        caller: call_caller,
                        calls: slots,
                        ..
                    // Only this task takes the slots of calls that arrive as messages (an
                    // in-process renderer whose calls share them runs those in its own task
                    // and sends none here): one free now is still free when the call needs
                    // it, and a call that finishes at its first poll takes none (a permit
                    // taken and given back costs the semaphore's lock).
                    }) => match slots.available_permits() {
                        0 => fail(IpcError::TooManyInFlight {
                            limit: max_in_flight,
                        }),
                        _ => match start_call(&main.inner, call_caller, &channel, args) {
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
                                        let result = handler_outcome(&channel, outcome);
                                        Some(ToRenderer::Reply {
                                            id,
                                            result,
                                            window: window.map(|_| call_caller.clone()),
                                        })
                                    }
                                    Poll::Pending => {
                                        match slots.clone().try_acquire_owned() {
                                            Err(_) => fail(IpcError::TooManyInFlight {
                                                limit: max_in_flight,
                                            }),
                                            Ok(slot) => {
                                                let run = run_call(
                                                    id,
                                                    window.map(|_| call_caller.clone()),
                                                    channel,
                                                    call,
                                                    timeout,
                                                    deadlines.clone(),
                                                    slot,
                                                );
                                                let mailbox = mailbox.clone();
                                                let abort = calls.spawn(async move {
                                                    // A closed mailbox means the connection
                                                    // is gone; this task cleans up nothing.
                                                    mailbox.push(run.await);
                                                    id
                                                });
                                                call_of_task.insert(abort.id(), id);
                                                in_flight.insert(id, Flight { abort, window });
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
                if let Some(flight) = in_flight.remove(&id) {
                    flight.abort.abort();
                }
                None
            }
            ToMain::Send {
                channel,
                args,
                sender,
            } => {
                let window = sender.is_some();
                let connection = Route {
                    caller: &caller,
                    calls: &slots,
                    sends: &sends,
                };
                match windows.route(&main, connection, sender, &channel) {
                    Ok(route) => {
                        let send_caller = route.caller.clone();
                        match route.sends.try_slot() {
                            Some(slot) => route
                                .sends
                                .enter(&main, &send_caller, &channel, args, slot)
                                .err()
                                .map(|error| ToRenderer::Notice { id: None, error }),
                            // One window of a bridge holds up none of the others: its send is
                            // refused instead of stopping the bridge's connection.
                            None if window => Some(ToRenderer::Notice {
                                id: None,
                                error: IpcError::TooManyInFlight {
                                    limit: route.sends.limit(),
                                },
                            }),
                            None => {
                                // Backpressure: nothing more is read from this renderer until a
                                // running send finishes (what it sends next must enter after this).
                                parked = Some(ParkedSend {
                                    channel,
                                    args,
                                    caller: send_caller,
                                });
                                None
                            }
                        }
                    }
                    Err(error) => {
                        tracing::warn!(renderer = %caller.renderer(), %error, "send refused");
                        Some(ToRenderer::Notice { id: None, error })
                    }
                }
            }
            // Answers to main's own frames: any frame already counted as a sign of life.
            ToMain::Pong { .. } | ToMain::Notice { .. } => None,
            ToMain::Reply { id, result } => {
                if requests.complete(id, result) {
                    None
                } else {
                    Some(ToRenderer::Notice {
                        id: None,
                        error: IpcError::Protocol {
                            reason: format!(
                                "unexpected `reply` frame (id {id}): main made no request with \
                                 that id"
                            ),
                        },
                    })
                }
            }
            // Port frames are handled where they are read (in process, ends move as values).
            ToMain::Port(_) => None,
            ToMain::Detach { sender } => {
                if let Some(window) = windows.known.remove(&sender) {
                    main.forget_renderer(window.caller.renderer(), "the window is gone");
                }
                windows.closed.remove(&sender);
                abort_window_calls(&mut in_flight, sender);
                requests.close_window(sender, "the window is gone");
                None
            }
        };
        if let Some(reply) = reply {
            answer(&mut writer, &mailbox, reply);
        }
    };
    tracing::debug!(renderer = %caller.renderer(), %reason, "connection closed");
    calls.abort_all();
    requests.close(&reason);
    if let Some(ports) = &ports {
        ports.close_all(&reason);
    }
    if main_closed_it {
        stop_listeners.cancel();
    }
    cleanup.reason = Some(reason.clone());
    // The renderer is forgotten and in-process callers learn at once; the rest of the cleanup
    // (goodbye, closing the mailbox) happens when `cleanup` drops.
    main.forget_renderer(caller.renderer(), &reason);
    closer.close(reason.clone());
    if let Some(writer) = writer {
        for message in last_words {
            mailbox.push(message);
        }
        mailbox.push(ToRenderer::Goodbye { reason, to: None });
        mailbox.close();
        writer.finish(&mailbox, CLOSING_GRACE).await;
    } else {
        for message in last_words {
            mailbox.push(message);
        }
    }
    // Only once the connection's descriptor is closed may the next connection come in.
    drop(incoming);
    drop(connection_slots);
}

/// What woke the connection task.
enum Event {
    Closed,
    /// A call task ended: done (its reply is in the mailbox), cancelled, or failed.
    CallEnded(Result<tokio::task::Id, JoinError>),
    /// Mail other tasks left for the renderer (frame connections).
    Out(Mail),
    /// A chunk of a large reply may go (frame connections).
    Chunk,
    Inbound(Inbound),
    /// A slot freed up for the parked send.
    SendSlot(OwnedSemaphorePermit),
    WriteFailed(FramingError),
    Heartbeat(Beat),
}

/// How many events the connection task takes in a row between full looks at its close signal
/// (its token, which main's shutdown reaches through its parent, and the wake-up registered
/// there, each a lock): a close of the connection's own is seen at every event, and the full
/// look is also made before every wait, so a busy connection sees a shutdown within this many
/// events and an idle one at once.
const EVENTS_BETWEEN_CLOSE_LOOKS: u32 = 16;

/// The connection's close signal as the connection task watches it.
struct CloseWatch<'a, F> {
    closer: &'a Closer,
    closed: Pin<&'a mut F>,
    /// Events taken since the last full look.
    events: u32,
}

impl<F: Future<Output = ()>> CloseWatch<'_, F> {
    /// Between events: the connection's own close at once, a parent's within
    /// [`EVENTS_BETWEEN_CLOSE_LOOKS`] events.
    fn between_events(&mut self, cx: &mut Context<'_>) -> bool {
        if self.closer.closed_here() {
            return true;
        }
        self.events += 1;
        self.events >= EVENTS_BETWEEN_CLOSE_LOOKS && self.look(cx)
    }

    /// A full look, which also registers the task to be woken by the close (before it waits).
    fn look(&mut self, cx: &mut Context<'_>) -> bool {
        self.events = 0;
        self.closed.as_mut().poll(cx).is_ready()
    }
}

/// Polls everything the connection task waits on, in priority order. While the writer cannot
/// take another message (the renderer is not reading), neither the mailbox nor the renderer is
/// read: main stops taking work from a renderer it cannot answer. While a send waits for a slot,
/// the renderer is not read either. Written frames are flushed once nothing else is ready, so a
/// burst of replies shares one write.
#[allow(clippy::too_many_arguments)]
fn next_event<F: Future<Output = ()>>(
    cx: &mut Context<'_>,
    watch: &mut CloseWatch<'_, F>,
    calls: &mut JoinSet<u64>,
    incoming: &mut FromRenderer,
    mut writer: Option<&mut MainWriter>,
    mailbox: &Mailbox,
    send_parked: bool,
    send_slots: &mut PollSemaphore,
    mut heartbeat: Option<&mut Heartbeat>,
) -> Poll<Event> {
    // The heartbeat is looked at only when the task is about to wait (a busy connection has no
    // use for it), including while the writer is blocked: a renderer that neither reads nor
    // writes is found silent too.
    let mut idle = |cx: &mut Context<'_>, watch: &mut CloseWatch<'_, F>| {
        if watch.look(cx) {
            return Poll::Ready(Event::Closed);
        }
        match heartbeat.as_deref_mut().map(|h| h.poll(cx)) {
            Some(Poll::Ready(beat)) => Poll::Ready(Event::Heartbeat(beat)),
            _ => Poll::Pending,
        }
    };
    if watch.between_events(cx) {
        return Poll::Ready(Event::Closed);
    }
    // Only this task adds calls: an empty set has nothing to report or wake it for.
    if !calls.is_empty() {
        if let Poll::Ready(Some(ended)) = calls.poll_join_next_with_id(cx) {
            return Poll::Ready(Event::CallEnded(ended.map(|(task, _)| task)));
        }
    }
    if let Some(writer) = writer.as_deref_mut() {
        match writer.poll_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(error)) => return Poll::Ready(Event::WriteFailed(error)),
            Poll::Pending => return idle(cx, watch),
        }
        // A long burst is flushed in parts, so that the renderer starts on the first replies
        // while this task works on the rest (the two sides overlap instead of taking turns).
        if writer.unflushed() >= FLUSH_AT_LEAST_EVERY {
            if let Poll::Ready(Err(error)) = writer.poll_flush(cx) {
                return Poll::Ready(Event::WriteFailed(error));
            }
        }
        if writer.chunk_due() {
            return Poll::Ready(Event::Chunk);
        }
        if let Poll::Ready(Some(mail)) = mailbox.poll_next(cx) {
            return Poll::Ready(Event::Out(mail));
        }
        if writer.has_transfers() {
            return Poll::Ready(Event::Chunk);
        }
    }
    let read = if send_parked {
        match send_slots.poll_acquire(cx) {
            Poll::Ready(Some(slot)) => return Poll::Ready(Event::SendSlot(slot)),
            // The semaphore is never closed; wait as if no slot were free.
            Poll::Ready(None) | Poll::Pending => false,
        }
    } else {
        true
    };
    if read {
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
    }
    if let Some(writer) = writer {
        if let Poll::Ready(Err(error)) = writer.poll_flush(cx) {
            return Poll::Ready(Event::WriteFailed(error));
        }
    }
    idle(cx, watch)
}

/// Who holds the handles `message` carries, where it is for one window behind a bridge (a reply
/// to the window's call, as the window was when it called; an event or a request naming it):
/// that window. `None`: the connection's renderer (on a bridge, a window main cannot name).
fn recipient(message: &ToRenderer, windows: Option<&Windows>) -> Option<Recipient> {
    match message {
        ToRenderer::Reply {
            window: Some(caller),
            ..
        } => Some(Recipient {
            caller: caller.clone(),
            main_frame: false,
        }),
        // Delivered by the bridge to the window's main frame, whichever frame called last.
        ToRenderer::Event {
            to: Some(window), ..
        }
        | ToRenderer::Invoke {
            to: Some(window), ..
        } => Some(Recipient {
            caller: windows?.known.get(window)?.caller.clone(),
            main_frame: true,
        }),
        _ => None,
    }
}

/// Answers the renderer from the connection task: on a frame connection written in place when
/// nothing else waits (only called when the writer is ready), else after what other tasks queued
/// (a handler's events go out before its reply).
fn answer(writer: &mut Option<MainWriter>, mailbox: &Mailbox, reply: ToRenderer) {
    match writer {
        Some(writer) if mailbox.is_empty() => {
            if let Err(error) = writer.write(&reply, recipient(&reply, None)) {
                // The next poll of the writer reports the failure and ends the connection.
                tracing::debug!(%error, "writing an answer failed");
            }
        }
        _ => {
            mailbox.push(reply);
        }
    }
}

/// A call task that did not finish: cancelled (already out of the in-flight map), or panicked
/// outside the handler (the handler's own panics are caught and answered), when the call still
/// gets an answer.
fn call_failed(
    call_of_task: &mut HashMap<tokio::task::Id, u64>,
    in_flight: &mut HashMap<u64, Flight, PeerIds>,
    mailbox: &Mailbox,
    error: JoinError,
) {
    let Some(id) = call_of_task.remove(&error.id()) else {
        return;
    };
    if !error.is_panic() {
        return;
    }
    forget_flight(in_flight, id, error.id());
    let message = error
        .try_into_panic()
        .map(|panic| crate::util::panic_message(&*panic))
        .unwrap_or_else(|_| "the call's task failed".to_string());
    tracing::error!(id, %message, "call task panicked");
    mailbox.push(ToRenderer::Reply {
        id,
        result: Err(Failure::Ipc(IpcError::HandlerPanicked {
            channel: String::new(),
            message,
        })),
        window: None,
    });
}

/// Forgets call `id` if it is still the one `task` ran (a cancelled id may have been reused).
fn forget_flight(in_flight: &mut HashMap<u64, Flight, PeerIds>, id: u64, task: tokio::task::Id) {
    if in_flight
        .get(&id)
        .is_some_and(|flight| flight.abort.id() == task)
    {
        in_flight.remove(&id);
    }
}

fn abort_window_calls(in_flight: &mut HashMap<u64, Flight, PeerIds>, window: u64) {
    in_flight.retain(|_, flight| {
        let theirs = flight.window == Some(window);
        if theirs {
            flight.abort.abort();
        }
        !theirs
    });
}

/// Runs a call that did not finish at its first poll to its reply, within its deadline (armed
/// only now: most calls never wait, and for them a deadline is pure cost).
async fn run_call(
    id: u64,
    window: Option<Caller>,
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
    ToRenderer::Reply { id, result, window }
}

/// Where a frame's work goes, with the bounds it counts against: the connection itself, or one
/// window behind a bridge (each window has bounds of its own, so one busy window holds up none
/// of the others).
struct Route<'a> {
    caller: &'a Caller,
    /// One permit per call in flight.
    calls: &'a Arc<Semaphore>,
    sends: &'a SendRunner,
}

/// One window behind a bridge.
struct Window {
    caller: Caller,
    calls: Arc<Semaphore>,
    sends: SendRunner,
}

/// The windows behind a bridge connection, by the bridge's id for them.
struct Windows {
    bridge: bool,
    known: HashMap<u64, Window>,
    /// Windows main disconnected: their frames are answered with `disconnected` until the
    /// bridge says they are gone (`detach`).
    closed: HashSet<u64>,
    /// Each window's bounds.
    max_in_flight: usize,
    max_sends_running: usize,
    /// Windows one bridge may name at once: each is a renderer with bounds of its own, so
    /// they are as many as main takes connections.
    max_windows: usize,
    stop_listeners: CancellationToken,
}

impl Windows {
    /// The route of a frame: the connection's own, or that of the window the bridge named.
    fn route<'a>(
        &'a mut self,
        main: &Main,
        connection: Route<'a>,
        sender: Option<SenderInfo>,
        channel: &str,
    ) -> Result<Route<'a>, IpcError> {
        let Some(sender) = sender else {
            return Ok(connection);
        };
        if !self.bridge {
            return Err(IpcError::Forbidden {
                channel: channel.to_string(),
                reason: "only a bridge connection may name the sender of a call".into(),
                rule: None,
            });
        }
        if self.closed.contains(&sender.id) {
            return Err(IpcError::disconnected(format!(
                "main disconnected window {}",
                sender.id
            )));
        }
        let known = self.known.get(&sender.id);
        if known.is_none() && self.known.len() >= self.max_windows {
            return Err(IpcError::TooManyConnections {
                limit: self.max_windows,
            });
        }
        let unchanged = known.is_some_and(|window| {
            window.caller.origin() == sender.origin.as_deref()
                && window.caller.frame_url() == sender.url.as_deref()
                && matches!(window.caller.peer(),
                    Peer::BridgeWindow { main_frame, .. } if *main_frame == sender.main_frame)
        });
        if !unchanged {
            let previous = known.map(|window| &window.caller);
            let caller = main.register_window(connection.caller, &sender, previous);
            // A window that navigated keeps its bounds: its calls and sends still run.
            let window = match self.known.remove(&sender.id) {
                Some(window) => Window { caller, ..window },
                None => Window {
                    caller,
                    calls: Arc::new(Semaphore::new(self.max_in_flight)),
                    sends: SendRunner::new(self.max_sends_running, self.stop_listeners.clone()),
                },
            };
            self.known.insert(sender.id, window);
        }
        let window = &self.known[&sender.id];
        Ok(Route {
            caller: &window.caller,
            calls: &window.calls,
            sends: &window.sends,
        })
    }

    /// Main disconnected `window`: it is forgotten and its later frames are refused.
    fn close(&mut self, main: &Main, window: u64, reason: &str) {
        if let Some(window) = self.known.remove(&window) {
            main.forget_renderer(window.caller.renderer(), reason);
        }
        self.closed.insert(window);
    }
}
