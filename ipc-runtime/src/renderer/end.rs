//! A renderer's end of its connection: the way to main (`ToMainQueue`: an in-process queue,
//! or frames its callers encode into the connection's outbox) and the way back (`FromMain`).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::outbox::{OutFrames, OutboxError, OutboxHandle};
use super::pending::PendingCalls;
use crate::error::IpcError;
use crate::port::{Announce, ConnPorts, PortWire};
use crate::transport::frames::{Limits, Outgoing, Reader, framing_error, into_frames};
use crate::transport::mailbox::{Mail, Mailbox};
use crate::transport::message::{Failure, PortMessage, ToMain, ToRenderer};
use crate::wire::{self, Codec, Frame, FramingError, Payload, ReplyBody};

/// A renderer's end of its connection to main.
pub(crate) struct RendererEnd {
    pub(crate) outgoing: ToMainQueue,
    pub(crate) incoming: FromMain,
    /// The calls waiting for replies on this connection (shared with the frame writer, which
    /// batches while several wait).
    pub(crate) pending: Arc<PendingCalls>,
}

/// How a renderer reaches main.
#[derive(Clone)]
pub(crate) enum ToMainQueue {
    Messages(mpsc::Sender<ToMain>),
    /// Frames, encoded by the task that sends them (so an unencodable or oversized message fails
    /// right there), written by the connection's writer task.
    Frames(FrameQueue),
}

/// What a renderer reads from main.
pub(crate) enum FromMain {
    /// In process: main's mailbox for this renderer.
    Messages(Arc<Mailbox>),
    Frames(MainFrames),
}

/// Main's frames, as a renderer reads them.
pub(crate) struct MainFrames {
    pub(crate) reader: Reader,
    pub(crate) codec: Codec,
    /// The connection's ports, which port frames go to.
    pub(crate) ports: Arc<ConnPorts>,
}

/// What the reader task takes from main: mail for the renderer, or a frame it must answer (a
/// `ping`, a frame a renderer does not receive).
pub(crate) enum Incoming {
    Mail(Mail),
    Answer(ToMain),
}

impl MainFrames {
    /// Reads the next message from main. A stream that ends or fails yields a goodbye with the
    /// reason; frames a renderer cannot use are answered with a protocol error.
    pub(crate) async fn next_from_main(&mut self) -> Incoming {
        let codec = self.codec;
        let message = |message| Incoming::Mail(Mail::Message(message));
        loop {
            let frame = match self.reader.next().await {
                Some(Ok(frame)) => frame,
                // Main never sends a message above our limit; if one came, only it is lost.
                Some(Err(error @ FramingError::MessageTooLarge { .. })) => {
                    tracing::warn!(%error, "a message from main was refused");
                    continue;
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "connection to main failed");
                    let reason = framing_error(error).to_string();
                    return message(ToRenderer::Goodbye { reason, to: None });
                }
                // Main crashed or cut the connection.
                None => {
                    let reason = "the connection ended without a goodbye".to_string();
                    return message(ToRenderer::Goodbye { reason, to: None });
                }
            };
            let ports = &self.ports;
            let notice = |error| Incoming::Answer(ToMain::Notice { error });
            return match wire::decode(frame, codec) {
                Ok(Frame::Reply {
                    id,
                    body,
                    ports: transferred,
                }) => message(ToRenderer::Reply {
                    id,
                    window: None,
                    result: match ports.open_there(transferred) {
                        Err(error) => Err(Failure::Ipc(error)),
                        Ok(context) => match body {
                            ReplyBody::Ok(value) => {
                                Ok(Payload::encoded_with(codec, value, context))
                            }
                            ReplyBody::App(error) => {
                                Err(Failure::App(Payload::encoded_with(codec, error, context)))
                            }
                            ReplyBody::Error(error) => Err(Failure::Ipc((*error).into())),
                        },
                    },
                }),
                Ok(Frame::Event {
                    channel,
                    args,
                    to,
                    ports: transferred,
                }) => match ports.open_there(transferred) {
                    Ok(context) => message(ToRenderer::Event {
                        channel: Cow::Owned(channel),
                        payload: Payload::encoded_with(codec, args, context),
                        to,
                        // Only a bridge acts on it, and a Rust renderer is no bridge.
                        except: None,
                    }),
                    Err(error) => notice(error),
                },
                // Main's request.
                Ok(Frame::Invoke {
                    id,
                    channel,
                    args,
                    timeout_ms,
                    ports: transferred,
                    ..
                }) => match ports.open_there(transferred) {
                    Ok(context) => message(ToRenderer::Invoke {
                        id,
                        channel: Cow::Owned(channel),
                        args: Payload::encoded_with(codec, args, context),
                        timeout: timeout_ms.map(std::time::Duration::from_millis),
                        to: None,
                    }),
                    Err(error) => Incoming::Answer(ToMain::Reply {
                        id,
                        result: Err(Failure::Ipc(error)),
                    }),
                },
                Ok(Frame::Cancel { id, .. }) => message(ToRenderer::Cancel { id, to: None }),
                Ok(frame @ (Frame::Port { .. } | Frame::Credit { .. } | Frame::Close { .. })) => {
                    match ports.apply(frame, codec) {
                        Ok(()) => continue,
                        Err(error) => notice(error),
                    }
                }
                Ok(Frame::Error {
                    id: Some(id),
                    error,
                }) => message(ToRenderer::Reply {
                    id,
                    window: None,
                    result: Err(Failure::Ipc(error.into())),
                }),
                Ok(Frame::Error { id: None, error }) => message(ToRenderer::Notice {
                    id: None,
                    error: error.into(),
                }),
                Ok(Frame::Goodbye { reason, to: None }) => {
                    message(ToRenderer::Goodbye { reason, to: None })
                }
                Ok(Frame::Lag {
                    channel,
                    missed,
                    to,
                }) => message(ToRenderer::Lag {
                    channel: Cow::Owned(channel),
                    missed,
                    to,
                    except: None,
                }),
                Ok(Frame::Ping { id }) => Incoming::Answer(ToMain::Pong { id }),
                Ok(Frame::Pong { .. }) => continue,
                Ok(other) => {
                    let kind = other.kind();
                    tracing::warn!(kind, "unexpected frame from main answered");
                    Incoming::Answer(ToMain::Notice {
                        error: IpcError::Protocol {
                            reason: format!(
                                "unexpected `{kind}` frame: a renderer does not receive {kind} frames"
                            ),
                        },
                    })
                }
                Err(error) => match error.call_of("reply") {
                    // A reply we cannot read still tells us which call it ends.
                    Some(id) => message(ToRenderer::Reply {
                        id,
                        window: None,
                        result: Err(Failure::Ipc(IpcError::Protocol {
                            reason: error.reason,
                        })),
                    }),
                    None => match error.call_of("invoke") {
                        // A request from main that cannot be read is answered as failed, so
                        // main's request ends now rather than at its deadline.
                        Some(id) => Incoming::Answer(ToMain::Reply {
                            id,
                            result: Err(Failure::Ipc(IpcError::Protocol {
                                reason: error.reason,
                            })),
                        }),
                        None => {
                            tracing::warn!(reason = %error.reason, "undecodable frame from main answered");
                            Incoming::Answer(ToMain::Notice {
                                error: IpcError::Protocol {
                                    reason: error.reason,
                                },
                            })
                        }
                    },
                },
            };
        }
    }
}

/// A renderer's way to main on a frame connection: its callers encode their own frames (so an
/// unencodable or oversized message fails right there) into the connection's outbox.
#[derive(Clone)]
pub(crate) struct FrameQueue {
    pub(crate) outbox: Arc<OutboxHandle>,
    pub(crate) codec: Codec,
    /// Main's limits.
    pub(crate) limits: Limits,
    /// Numbers this renderer's chunked messages.
    pub(crate) chunked: Arc<AtomicU32>,
    /// The connection's ports: messages that carry port ends and streams open them here.
    pub(crate) ports: Arc<ConnPorts>,
}

/// Why a message did not reach the queue to main.
pub(crate) enum PostError {
    /// The queue is full (only from `try_post`).
    Full,
    /// The connection is gone.
    Closed,
    /// The message cannot be sent (it does not encode, or is over main's message limit).
    Refused(IpcError),
}

impl From<OutboxError> for PostError {
    fn from(error: OutboxError) -> Self {
        match error {
            OutboxError::Full(_) => PostError::Full,
            OutboxError::Closed => PostError::Closed,
        }
    }
}

/// A message that found the queue to main full, with what it needs to wait for room.
pub(crate) enum Blocked {
    Message(mpsc::Sender<ToMain>, ToMain),
    /// Encoded frames, and what lets the ports they transfer send once they are queued.
    Frames(Arc<OutboxHandle>, OutFrames, Announce),
}

impl Blocked {
    /// The message will not wait: the ports it transferred are closed (its frames never go).
    fn give_up(self) {
        if let Blocked::Frames(_, _, announce) = self {
            announce.abandon();
        }
    }

    /// Waits for room and queues the message: the rare path (main is not reading), boxed so
    /// that it adds nothing to the size of every call's future.
    pub(crate) fn wait(self) -> Pin<Box<dyn Future<Output = Result<(), PostError>> + Send>> {
        match self {
            Blocked::Message(queue, message) => {
                Box::pin(async move { queue.send(message).await.map_err(|_| PostError::Closed) })
            }
            Blocked::Frames(outbox, frames, announce) => Box::pin(async move {
                match outbox.put(frames).await {
                    Ok(()) => Ok(()),
                    Err(error) => {
                        announce.abandon();
                        Err(error.into())
                    }
                }
            }),
        }
    }
}

impl ToMainQueue {
    /// Queues a message without waiting.
    pub(crate) fn try_post(&self, message: ToMain) -> Result<(), PostError> {
        match self.post_now(message)? {
            None => Ok(()),
            Some(blocked) => {
                blocked.give_up();
                Err(PostError::Full)
            }
        }
    }

    /// Queues a message, waiting for room.
    pub(crate) async fn post(&self, message: ToMain) -> Result<(), PostError> {
        match self.post_now(message)? {
            None => Ok(()),
            Some(blocked) => blocked.wait().await,
        }
    }

    /// Queues a message if there is room now; a message that must wait for room comes back
    /// as [`Blocked`], to wait with. Split from [`ToMainQueue::post`] so that a caller's
    /// future holds only the (boxed) wait, not the message and its frames, on the common path.
    pub(crate) fn post_now(&self, message: ToMain) -> Result<Option<Blocked>, PostError> {
        use mpsc::error::TrySendError;
        match self {
            ToMainQueue::Messages(queue) => match queue.try_send(message) {
                Ok(()) => Ok(None),
                Err(TrySendError::Full(message)) => {
                    Ok(Some(Blocked::Message(queue.clone(), message)))
                }
                Err(TrySendError::Closed(_)) => Err(PostError::Closed),
            },
            ToMainQueue::Frames(queue) => {
                let (frames, announce) = queue.encode(&message)?;
                match queue.outbox.try_put(frames) {
                    Ok(()) => Ok(None),
                    Err(OutboxError::Full(frames)) => Ok(Some(Blocked::Frames(
                        queue.outbox.clone(),
                        frames,
                        announce,
                    ))),
                    Err(error) => {
                        announce.abandon();
                        Err(error.into())
                    }
                }
            }
        }
    }

    /// How many messages the queue holds.
    pub(crate) fn capacity(&self) -> usize {
        match self {
            ToMainQueue::Messages(queue) => queue.max_capacity(),
            ToMainQueue::Frames(queue) => queue.outbox.capacity(),
        }
    }
}

/// The reader task's way to answer main (pongs, protocol errors, the replies to main's
/// requests): it must not keep the connection open by itself (the connection closes when the
/// renderer's last handle is dropped).
#[derive(Clone)]
pub(crate) enum Answers {
    Messages(mpsc::WeakSender<ToMain>),
    Frames(WeakFrameQueue),
}

#[derive(Clone)]
pub(crate) struct WeakFrameQueue {
    outbox: std::sync::Weak<OutboxHandle>,
    codec: Codec,
    limits: Limits,
    chunked: Arc<AtomicU32>,
    ports: std::sync::Weak<ConnPorts>,
}

impl WeakFrameQueue {
    fn upgrade(&self) -> Option<FrameQueue> {
        Some(FrameQueue {
            outbox: self.outbox.upgrade()?,
            codec: self.codec,
            limits: self.limits,
            chunked: self.chunked.clone(),
            ports: self.ports.upgrade()?,
        })
    }
}

impl ToMainQueue {
    /// A way to answer main that does not hold the connection open.
    pub(crate) fn answers(&self) -> Answers {
        match self {
            ToMainQueue::Messages(queue) => Answers::Messages(queue.downgrade()),
            ToMainQueue::Frames(queue) => Answers::Frames(queue.downgrade()),
        }
    }
}

impl Answers {
    /// Queues an answer if the connection is still held open by the renderer.
    pub(crate) fn try_post(&self, message: ToMain) -> Result<(), PostError> {
        match self {
            Answers::Messages(queue) => match queue.upgrade() {
                Some(queue) => ToMainQueue::Messages(queue).try_post(message),
                None => Err(PostError::Closed),
            },
            Answers::Frames(weak) => match weak.upgrade() {
                Some(queue) => ToMainQueue::Frames(queue).try_post(message),
                None => Err(PostError::Closed),
            },
        }
    }

    /// Queues an answer main waits for (a request's reply): on a frame connection past the
    /// outbox's bound (one reply per request main has in flight), in process waiting for room.
    pub(crate) async fn post(&self, message: ToMain) -> Result<(), PostError> {
        match self {
            Answers::Messages(queue) => match queue.upgrade() {
                Some(queue) => ToMainQueue::Messages(queue).post(message).await,
                None => Err(PostError::Closed),
            },
            Answers::Frames(weak) => match weak.upgrade() {
                Some(queue) => {
                    let (frames, announce) = queue.encode(&message)?;
                    queue.outbox.put_anyway(frames, false).map_err(|error| {
                        announce.abandon();
                        PostError::from(error)
                    })
                }
                None => Err(PostError::Closed),
            },
        }
    }
}

/// The renderer's port frames go to the outbox, encoded with the connection's ports (a message
/// may carry port ends of its own).
pub(crate) struct RendererPortWire {
    pub(crate) outbox: std::sync::Weak<OutboxHandle>,
    pub(crate) codec: Codec,
    pub(crate) limits: Limits,
    pub(crate) chunked: Arc<AtomicU32>,
}

impl PortWire for RendererPortWire {
    fn post(&self, ports: &Arc<ConnPorts>, message: PortMessage) {
        let Some(outbox) = self.outbox.upgrade() else {
            return;
        };
        // Encoded from the wire's own fields, not through a `FrameQueue` made for the message:
        // every reference it takes and lets go is an atomic operation on a counter the
        // connection's other senders share (64 callers of one handle, a stream's pump).
        let message = ToMain::Port(message);
        let encoded = encode_frames(ports, self.codec, self.limits, &self.chunked, &message);
        // Bounded already (credits, ports open): the outbox takes them past its own bound.
        match encoded {
            Ok((frames, announce)) => {
                let among_others = crate::port::sent_among_others();
                let _ = outbox.put_anyway(frames, among_others);
                drop(announce);
            }
            Err(PostError::Refused(error)) => tracing::warn!(%error, "a port frame was not sent"),
            Err(_) => {}
        }
    }
}

impl FrameQueue {
    /// A handle on the queue that does not keep the connection open.
    pub(crate) fn downgrade(&self) -> WeakFrameQueue {
        WeakFrameQueue {
            outbox: Arc::downgrade(&self.outbox),
            codec: self.codec,
            limits: self.limits,
            chunked: self.chunked.clone(),
            ports: Arc::downgrade(&self.ports),
        }
    }

    /// The message's frames: one, or its chunks when it is longer than main's largest frame;
    /// and what lets the ports it transferred send, to drop once the frames are queued.
    fn encode(&self, message: &ToMain) -> Result<(OutFrames, Announce), PostError> {
        encode_frames(&self.ports, self.codec, self.limits, &self.chunked, message)
    }
}

/// A message's frames for a connection with `ports`, whose chunked messages `chunked` numbers
/// (see [`FrameQueue::encode`]).
fn encode_frames(
    ports: &Arc<ConnPorts>,
    codec: Codec,
    limits: Limits,
    chunked: &AtomicU32,
    message: &ToMain,
) -> Result<(OutFrames, Announce), PostError> {
    let (bytes, announce) =
        crate::port::encoding(ports, None, || message.encode(codec, limits.max_message))
            .map_err(|(_, error)| PostError::Refused(error))?;
    if bytes.len() <= limits.max_frame {
        return Ok((OutFrames::One(bytes), announce));
    }
    let mut id = chunked.fetch_add(1, Ordering::Relaxed);
    Ok((
        OutFrames::new(into_frames(bytes, limits, &mut id)),
        announce,
    ))
}

impl FromMain {
    /// The next mail from main; `None` once main's mailbox is closed and empty (in process).
    pub(crate) async fn next(&mut self) -> Option<Incoming> {
        match self {
            FromMain::Messages(mailbox) => std::future::poll_fn(|cx| mailbox.poll_next(cx))
                .await
                .map(Incoming::Mail),
            FromMain::Frames(reader) => Some(reader.next_from_main().await),
        }
    }
}
