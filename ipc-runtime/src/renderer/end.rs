//! A renderer's end of its connection: the way to main (`ToMainQueue`: an in-process queue,
//! or frames its callers encode into the connection's outbox) and the way back (`FromMain`).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::outbox::{OutFrames, OutboxError, OutboxHandle};
use super::pending::PendingCalls;
use crate::error::IpcError;
use crate::transport::frames::{Limits, Outgoing, Reader, framing_error, into_frames};
use crate::transport::mailbox::{Mail, Mailbox};
use crate::transport::message::{Failure, ToMain, ToRenderer};
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
            return match wire::decode(frame, codec) {
                Ok(Frame::Reply { id, body }) => message(ToRenderer::Reply {
                    id,
                    result: match body {
                        ReplyBody::Ok(value) => Ok(Payload::encoded(codec, value)),
                        ReplyBody::App(error) => Err(Failure::App(Payload::encoded(codec, error))),
                        ReplyBody::Error(error) => Err(Failure::Ipc(error.into())),
                    },
                }),
                Ok(Frame::Event { channel, args, to }) => message(ToRenderer::Event {
                    channel: Cow::Owned(channel),
                    payload: Payload::encoded(codec, args),
                    to,
                }),
                Ok(Frame::Error {
                    id: Some(id),
                    error,
                }) => message(ToRenderer::Reply {
                    id,
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

impl ToMainQueue {
    /// Queues a message without waiting.
    pub(crate) fn try_post(&self, message: ToMain) -> Result<(), PostError> {
        use mpsc::error::TrySendError;
        match self {
            ToMainQueue::Messages(queue) => queue.try_send(message).map_err(|e| match e {
                TrySendError::Full(_) => PostError::Full,
                TrySendError::Closed(_) => PostError::Closed,
            }),
            ToMainQueue::Frames(queue) => Ok(queue.outbox.try_put(queue.encode(&message)?)?),
        }
    }

    /// Queues a message, waiting for room.
    pub(crate) async fn post(&self, message: ToMain) -> Result<(), PostError> {
        use mpsc::error::TrySendError;
        // Waiting for room is the rare path: boxed, so it adds nothing to the size of every
        // call's future.
        match self {
            ToMainQueue::Messages(queue) => match queue.try_send(message) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(message)) => Box::pin(queue.send(message))
                    .await
                    .map_err(|_| PostError::Closed),
                Err(TrySendError::Closed(_)) => Err(PostError::Closed),
            },
            ToMainQueue::Frames(queue) => match queue.outbox.try_put(queue.encode(&message)?) {
                Err(OutboxError::Full(frame)) => Ok(Box::pin(queue.outbox.put(frame)).await?),
                sent => Ok(sent?),
            },
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

/// The reader task's way to answer main: it must not keep the connection open by itself (the
/// connection closes when the renderer's last handle is dropped).
pub(crate) struct Answers(Option<WeakFrameQueue>);

struct WeakFrameQueue {
    outbox: std::sync::Weak<OutboxHandle>,
    codec: Codec,
    limits: Limits,
    chunked: Arc<AtomicU32>,
}

impl ToMainQueue {
    /// A way to answer main that does not hold the connection open (in process: none, main
    /// never asks).
    pub(crate) fn answers(&self) -> Answers {
        Answers(match self {
            ToMainQueue::Messages(_) => None,
            ToMainQueue::Frames(queue) => Some(WeakFrameQueue {
                outbox: Arc::downgrade(&queue.outbox),
                codec: queue.codec,
                limits: queue.limits,
                chunked: queue.chunked.clone(),
            }),
        })
    }
}

impl Answers {
    /// Queues an answer if the connection is still held open by the renderer.
    pub(crate) fn try_post(&self, message: ToMain) -> Result<(), PostError> {
        let Some(weak) = &self.0 else {
            return Err(PostError::Closed);
        };
        let Some(outbox) = weak.outbox.upgrade() else {
            return Err(PostError::Closed);
        };
        let queue = FrameQueue {
            outbox,
            codec: weak.codec,
            limits: weak.limits,
            chunked: weak.chunked.clone(),
        };
        ToMainQueue::Frames(queue).try_post(message)
    }
}

impl FrameQueue {
    /// The message's frames: one, or its chunks when it is longer than main's largest frame.
    fn encode(&self, message: &ToMain) -> Result<OutFrames, PostError> {
        let bytes = message
            .encode(self.codec, self.limits.max_message)
            .map_err(|(_, error)| PostError::Refused(error))?;
        if bytes.len() <= self.limits.max_frame {
            return Ok(OutFrames::One(bytes));
        }
        let mut id = self.chunked.fetch_add(1, Ordering::Relaxed);
        Ok(OutFrames::new(into_frames(bytes, self.limits, &mut id)))
    }
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
