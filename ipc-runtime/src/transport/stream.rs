//! Frame connections (byte streams with length prefixes, or message transports such as
//! WebSocket): the handshake, then the frame reading and writing of each side.
//!
//! Each side's connection task reads and decodes frames itself; main's connection task also
//! writes its frames (replies go out from the task that ran the call, with no hop), and a
//! renderer's callers encode their own frames for one writer task. A small call crosses
//! no queue between the socket and the code that acts on it.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;

use super::outbox::{Outbox, OutboxError, OutboxHandle};
use super::{ByteLink, FromMain, FromRenderer, MainEnd, RendererEnd, ToMainQueue};
use crate::caller::RendererId;
use crate::codec::Codec;
use crate::error::IpcError;
use crate::framing::{FrameBytes, FrameCodec, FrameWriter, FramingError};
use crate::handshake;
use crate::message::{Failure, ToMain, ToRenderer};
use crate::payload::Payload;
use crate::pending::PendingCalls;
use crate::renderer::{Renderer, RendererOptions};
use crate::router::{Main, PeerIdentity};
use crate::wire::{
    self, Frame, FrameError, Hello, OutFrame, PROTOCOL_VERSION, ReplyBody, WireError,
};

/// Incoming frame bodies.
pub(crate) type Reader = Pin<Box<dyn Stream<Item = Result<Bytes, FramingError>> + Send>>;
/// Outgoing frame bodies.
pub(crate) type Writer = Pin<Box<dyn Sink<FrameBytes, Error = FramingError> + Send>>;

/// A connection that carries whole frames, whatever delimits them.
pub(crate) struct FrameLink {
    pub(crate) reader: Reader,
    pub(crate) writer: Writer,
    pub(crate) peer: String,
    /// The web origin the transport vouched for (a WebSocket upgrade's checked `Origin`).
    pub(crate) origin: Option<String>,
}

impl FrameLink {
    /// Length-prefixed frames over a byte stream; frames above `max_read` are refused.
    pub(crate) fn from_bytes(link: ByteLink, max_read: usize) -> FrameLink {
        let reader = FramedRead::new(link.reader, FrameCodec::new(max_read))
            .map(|frame| frame.map(bytes::BytesMut::freeze));
        // The peer's limit is enforced per message when it is encoded, once the handshake has
        // said what it is.
        let writer = FrameWriter::new(link.writer);
        FrameLink {
            reader: Box::pin(reader),
            writer: Box::pin(writer),
            peer: link.peer,
            origin: None,
        }
    }
}

/// Reads the first frame within the handshake deadline.
async fn first_frame(reader: &mut Reader, deadline: Duration) -> Result<Bytes, IpcError> {
    match tokio::time::timeout(deadline, reader.next()).await {
        Err(_) => Err(IpcError::Protocol {
            reason: format!("no hello within {deadline:?}"),
        }),
        Ok(None) => Err(IpcError::disconnected(
            "the peer closed the connection during the handshake",
        )),
        Ok(Some(Err(error))) => Err(framing_error(error)),
        Ok(Some(Ok(frame))) => Ok(frame),
    }
}

fn framing_error(error: FramingError) -> IpcError {
    match error {
        FramingError::TooLarge { size, limit } => IpcError::TooLarge { size, limit },
        FramingError::Truncated => IpcError::disconnected("truncated frame"),
        FramingError::Io(e) => IpcError::disconnected(format!("i/o error: {e}")),
    }
}

/// Tells the peer why it is refused (best effort) and closes.
async fn refuse(mut writer: Writer, error: IpcError) -> IpcError {
    let _ = writer
        .send(wire::encode_handshake_error(&error).into())
        .await;
    let _ = writer.close().await;
    error
}

fn decode_hello(frame: &[u8], roles: &[&str]) -> Result<(Hello, Codec), IpcError> {
    let hello = wire::decode_handshake(frame)
        .map_err(|e: FrameError| IpcError::Protocol { reason: e.reason })??;
    if !roles.contains(&hello.role.as_str()) {
        return Err(IpcError::Protocol {
            reason: format!(
                "expected a hello from a {}, got role `{}`",
                roles.join(" or "),
                hello.role
            ),
        });
    }
    handshake::check_protocol(&hello)?;
    let codec = Codec::from_name(&hello.codec).ok_or_else(|| IpcError::Protocol {
        reason: format!(
            "unknown codec `{}`; expected \"json\" or \"binary\"",
            hello.codec
        ),
    })?;
    Ok((hello, codec))
}

fn peer_limit(hello: &Hello, ours: usize) -> usize {
    hello
        .max_frame
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .unwrap_or(ours)
}

/// Main's side of a byte connection: handshake, then serve.
pub(crate) async fn accept(
    main: &Main,
    link: FrameLink,
    allow_bridge: bool,
) -> Result<RendererId, IpcError> {
    let config = main.inner.config.clone();
    let FrameLink {
        mut reader,
        writer,
        peer,
        origin,
    } = link;
    let hello = match first_frame(&mut reader, config.handshake_timeout).await {
        Ok(frame) => frame,
        Err(error) => return Err(refuse(writer, error).await),
    };
    let (hello, codec) = match decode_hello(
        &hello,
        if allow_bridge {
            &["renderer", "bridge"]
        } else {
            &["renderer"]
        },
    )
    .and_then(|(hello, codec)| {
        handshake::check_contracts(&main.contracts(), &hello.contracts)?;
        Ok((hello, codec))
    }) {
        Ok(accepted) => accepted,
        Err(error) => {
            tracing::warn!(%peer, %error, "renderer refused at the handshake");
            return Err(refuse(writer, error).await);
        }
    };
    let mut writer = writer;
    let limit = peer_limit(&hello, config.max_frame_size);
    let id = main.next_renderer_id();
    let answer = Hello {
        t: "hello".into(),
        protocol: PROTOCOL_VERSION,
        role: "main".into(),
        codec: codec.name().into(),
        contracts: main.contracts(),
        label: None,
        renderer: Some(id.get()),
        max_frame: Some(config.max_frame_size as u64),
    };
    if let Err(error) = writer.send(wire::encode_hello(&answer).into()).await {
        return Err(framing_error(error));
    }
    let (outgoing, queue) = mpsc::channel(config.queue_capacity);
    let end = MainEnd {
        incoming: FromRenderer::Frames(FrameReader { reader, codec }),
        outgoing,
        writer: Some(MainWriter {
            sink: writer,
            codec,
            limit,
            queue,
            unflushed: 0,
        }),
    };
    let identity = PeerIdentity {
        bridge: hello.role == "bridge",
        label: hello.label.unwrap_or_else(|| peer.clone()),
        origin,
        frame_url: None,
    };
    main.register_connection(id, end, identity);
    Ok(id)
}

/// One side's incoming frames and the codec they are in.
pub(crate) struct FrameReader {
    reader: Reader,
    codec: Codec,
}

/// What one step of reading a renderer asks of main.
pub(crate) enum Inbound {
    Message(ToMain),
    /// A frame main cannot act on: answer it and read on.
    Answer(ToRenderer),
    /// Nothing to do (the renderer reported an error of its own).
    Skip,
    /// The stream ends: tell the renderer `notice` (if any), then goodbye with `reason`.
    End {
        notice: Option<IpcError>,
        reason: String,
    },
}

impl FrameReader {
    /// Reads the next frame from a renderer and says what it asks of main.
    pub(crate) fn poll_inbound(&mut self, cx: &mut Context<'_>) -> Poll<Inbound> {
        let next = ready!(self.reader.poll_next_unpin(cx));
        Poll::Ready(self.inbound(next))
    }

    fn inbound(&self, next: Option<Result<Bytes, FramingError>>) -> Inbound {
        let codec = self.codec;
        let frame = match next {
            None => {
                return Inbound::End {
                    notice: None,
                    reason: "renderer disconnected".into(),
                };
            }
            Some(Ok(frame)) => frame,
            // The stream cannot be resynchronized past a refused frame: say why and close.
            Some(Err(FramingError::TooLarge { size, limit })) => {
                return Inbound::End {
                    notice: Some(IpcError::TooLarge { size, limit }),
                    reason: format!("frame of {size} bytes exceeds the limit of {limit} bytes"),
                };
            }
            Some(Err(error)) => {
                tracing::debug!(%error, "renderer stream ended");
                // Say why (a truncated frame, an i/o error) instead of a bare "disconnected".
                return Inbound::End {
                    notice: None,
                    reason: error.to_string(),
                };
            }
        };
        let message = match wire::decode(frame, codec) {
            Ok(Frame::Invoke {
                id,
                channel,
                args,
                timeout_ms,
                sender,
            }) => ToMain::Invoke {
                id,
                channel: Cow::Owned(channel),
                args: Payload::encoded(codec, args),
                timeout: timeout_ms.map(Duration::from_millis),
                sender,
            },
            Ok(Frame::Cancel { id }) => ToMain::Cancel { id },
            Ok(Frame::Send {
                channel,
                args,
                sender,
            }) => ToMain::Send {
                channel: Cow::Owned(channel),
                args: Payload::encoded(codec, args),
                sender,
            },
            Ok(Frame::Detach { sender }) => ToMain::Detach { sender },
            Ok(Frame::Goodbye { reason }) => {
                tracing::debug!(%reason, "renderer said goodbye");
                return Inbound::End {
                    notice: None,
                    reason: "renderer disconnected".into(),
                };
            }
            Ok(Frame::Error { id, error }) => {
                tracing::warn!(?id, code = %error.code, message = %error.message, "renderer reported an error");
                return Inbound::Skip;
            }
            Ok(other) => {
                let kind = frame_kind(&other);
                let error = IpcError::Protocol {
                    reason: match other {
                        // Never addressed to a call id: the renderer's ids name its own calls.
                        Frame::Reply { id, .. } => format!(
                            "unexpected `reply` frame (id {id}): main does not receive replies"
                        ),
                        _ => format!(
                            "unexpected `{kind}` frame: main does not receive {kind} frames"
                        ),
                    },
                };
                return Inbound::Answer(ToRenderer::Notice { id: None, error });
            }
            Err(frame_error) => {
                let id = frame_error.call_of("invoke");
                let error = IpcError::Protocol {
                    reason: frame_error.reason,
                };
                return Inbound::Answer(match id {
                    Some(id) => ToRenderer::Reply {
                        id,
                        result: Err(Failure::Ipc(error)),
                    },
                    None => ToRenderer::Notice { id: None, error },
                });
            }
        };
        Inbound::Message(message)
    }

    /// Reads the next message from main. A stream that ends or fails yields a goodbye with the
    /// reason; frames a renderer cannot use are logged and skipped.
    pub(crate) async fn next_from_main(&mut self) -> ToRenderer {
        let codec = self.codec;
        loop {
            let frame = match self.reader.next().await {
                Some(Ok(frame)) => frame,
                Some(Err(error)) => {
                    tracing::warn!(%error, "connection to main failed");
                    let reason = framing_error(error).to_string();
                    return ToRenderer::Goodbye { reason };
                }
                // Main crashed or cut the connection.
                None => {
                    let reason = "the connection ended without a goodbye".to_string();
                    return ToRenderer::Goodbye { reason };
                }
            };
            return match wire::decode(frame, codec) {
                Ok(Frame::Reply { id, body }) => ToRenderer::Reply {
                    id,
                    result: match body {
                        ReplyBody::Ok(value) => Ok(Payload::encoded(codec, value)),
                        ReplyBody::App(error) => Err(Failure::App(Payload::encoded(codec, error))),
                        ReplyBody::Error(error) => Err(Failure::Ipc(error.into())),
                    },
                },
                Ok(Frame::Event { channel, args, to }) => ToRenderer::Event {
                    channel: Cow::Owned(channel),
                    payload: Payload::encoded(codec, args),
                    to,
                },
                Ok(Frame::Error {
                    id: Some(id),
                    error,
                }) => ToRenderer::Reply {
                    id,
                    result: Err(Failure::Ipc(error.into())),
                },
                Ok(Frame::Error { id: None, error }) => ToRenderer::Notice {
                    id: None,
                    error: error.into(),
                },
                Ok(Frame::Goodbye { reason }) => ToRenderer::Goodbye { reason },
                Ok(other) => {
                    tracing::warn!(
                        kind = frame_kind(&other),
                        "unexpected frame from main ignored"
                    );
                    continue;
                }
                Err(error) => match error.call_of("reply") {
                    // A reply we cannot read still tells us which call it ends.
                    Some(id) => ToRenderer::Reply {
                        id,
                        result: Err(Failure::Ipc(IpcError::Protocol {
                            reason: error.reason,
                        })),
                    },
                    None => {
                        tracing::warn!(reason = %error.reason, "undecodable frame from main ignored");
                        continue;
                    }
                },
            };
        }
    }
}

fn frame_kind(frame: &Frame) -> &'static str {
    match frame {
        Frame::Hello(_) => "hello",
        Frame::Invoke { .. } => "invoke",
        Frame::Reply { .. } => "reply",
        Frame::Cancel { .. } => "cancel",
        Frame::Send { .. } => "send",
        Frame::Event { .. } => "event",
        Frame::Detach { .. } => "detach",
        Frame::Error { .. } => "error",
        Frame::Goodbye { .. } => "goodbye",
    }
}

/// Main's writing half of a frame connection, owned by the connection's task.
pub(crate) struct MainWriter {
    sink: Writer,
    codec: Codec,
    /// The peer's largest frame.
    limit: usize,
    /// What other tasks queued for the renderer; the connection task writes it in order.
    pub(crate) queue: mpsc::Receiver<ToRenderer>,
    /// Frames written since the last flush.
    unflushed: usize,
}

impl MainWriter {
    /// Whether one more message may be written (`Pending` while the peer is not reading and
    /// the buffer is full).
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FramingError>> {
        self.sink.as_mut().poll_ready(cx)
    }

    /// How many frames were written since the last flush.
    pub(crate) fn unflushed(&self) -> usize {
        self.unflushed
    }

    /// Flushes what was written, if anything.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FramingError>> {
        if self.unflushed == 0 {
            return Poll::Ready(Ok(()));
        }
        ready!(self.sink.as_mut().poll_flush(cx))?;
        self.unflushed = 0;
        Poll::Ready(Ok(()))
    }

    /// Writes one message (after `poll_ready`). A message that cannot be encoded or is over the
    /// peer's frame limit fails its own call (an error reply in its place) instead of the
    /// connection.
    pub(crate) fn write(&mut self, message: &ToRenderer) -> Result<(), FramingError> {
        let bytes = match message.encode(self.codec, self.limit) {
            Ok(bytes) => bytes,
            Err((id, error)) => {
                tracing::warn!(%error, ?id, "message not sent");
                let Some(id) = id else {
                    return Ok(());
                };
                let reply = ToRenderer::Reply {
                    id,
                    result: Err(Failure::Ipc(error)),
                };
                match reply.encode(self.codec, self.limit) {
                    Ok(bytes) => bytes,
                    Err(_) => return Ok(()),
                }
            }
        };
        self.sink.as_mut().start_send(bytes)?;
        self.unflushed += 1;
        Ok(())
    }

    /// Writes `backlog`, what other tasks still queued, then `last`, and closes the stream; gives
    /// up after
    /// `grace` (a peer that stopped reading never holds the connection open).
    pub(crate) async fn finish(
        mut self,
        backlog: VecDeque<ToRenderer>,
        last: Vec<ToRenderer>,
        grace: Duration,
    ) {
        self.queue.close();
        let write_all = async {
            for message in backlog {
                std::future::poll_fn(|cx| self.poll_ready(cx)).await?;
                self.write(&message)?;
            }
            while let Some(message) = self.queue.recv().await {
                std::future::poll_fn(|cx| self.poll_ready(cx)).await?;
                self.write(&message)?;
            }
            for message in last {
                std::future::poll_fn(|cx| self.poll_ready(cx)).await?;
                self.write(&message)?;
            }
            self.sink.close().await
        };
        let _ = tokio::time::timeout(grace, write_all).await;
    }
}

/// Encodes a message into one frame for a peer whose largest frame is `limit`. `Err` carries the
/// call the message belongs to (if any) and the error to report instead.
trait Outgoing {
    fn frame(&self) -> Result<OutFrame<'_>, IpcError>;
    /// The call this message belongs to, if any.
    fn call_id(&self) -> Option<u64>;

    fn encode(&self, codec: Codec, limit: usize) -> Result<FrameBytes, (Option<u64>, IpcError)> {
        let id = self.call_id();
        let bytes = self.frame().and_then(|frame| wire::encode(&frame, codec));
        match bytes {
            Ok(bytes) if bytes.len() > limit => {
                let size = bytes.len();
                Err((id, IpcError::TooLarge { size, limit }))
            }
            Ok(bytes) => Ok(bytes),
            Err(error) => Err((id, error)),
        }
    }
}

impl Outgoing for ToRenderer {
    fn frame(&self) -> Result<OutFrame<'_>, IpcError> {
        Ok(match self {
            ToRenderer::Reply { id, result } => OutFrame::Reply {
                id: *id,
                body: match result {
                    Ok(value) => ReplyBody::Ok(value),
                    Err(Failure::App(error)) => ReplyBody::App(error),
                    Err(Failure::Ipc(error)) => ReplyBody::Error(WireError::from(error)),
                },
            },
            ToRenderer::Event {
                channel,
                payload,
                to,
            } => OutFrame::Event {
                channel,
                args: payload,
                to: *to,
            },
            ToRenderer::Notice { id, error } => OutFrame::Error {
                id: *id,
                error: WireError::from(error),
            },
            ToRenderer::Goodbye { reason } => OutFrame::Goodbye { reason },
        })
    }

    fn call_id(&self) -> Option<u64> {
        match self {
            ToRenderer::Reply { id, .. } => Some(*id),
            _ => None,
        }
    }
}

impl Outgoing for ToMain {
    fn frame(&self) -> Result<OutFrame<'_>, IpcError> {
        Ok(match self {
            ToMain::Invoke {
                id,
                channel,
                args,
                timeout,
                ..
            } => OutFrame::Invoke {
                id: *id,
                channel,
                args,
                timeout_ms: timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            },
            ToMain::Cancel { id } => OutFrame::Cancel { id: *id },
            ToMain::Send { channel, args, .. } => OutFrame::Send { channel, args },
            ToMain::Detach { .. } => {
                let reason = "a Rust renderer has no windows to detach".to_string();
                return Err(IpcError::Protocol { reason });
            }
        })
    }

    fn call_id(&self) -> Option<u64> {
        match self {
            ToMain::Invoke { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// A renderer's way to main on a frame connection: its callers encode their own frames (so an
/// unencodable or oversized message fails right there) into the connection's outbox.
#[derive(Clone)]
pub(crate) struct FrameQueue {
    outbox: Arc<OutboxHandle>,
    codec: Codec,
    /// Main's largest frame.
    limit: usize,
}

/// Why a message did not reach the queue to main.
pub(crate) enum PostError {
    /// The queue is full (only from `try_post`).
    Full,
    /// The connection is gone.
    Closed,
    /// The message cannot be sent (it does not encode, or is over main's frame limit).
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

impl FrameQueue {
    fn encode(&self, message: &ToMain) -> Result<FrameBytes, PostError> {
        message
            .encode(self.codec, self.limit)
            .map_err(|(_, error)| PostError::Refused(error))
    }
}

impl FromMain {
    /// The next message from main; `None` once every sender is gone (in process).
    pub(crate) async fn next(&mut self) -> Option<ToRenderer> {
        match self {
            FromMain::Messages(queue) => queue.recv().await,
            FromMain::Frames(reader) => Some(reader.next_from_main().await),
        }
    }
}

/// The renderer's side of a byte connection: handshake, then start the client.
pub(crate) async fn connect(
    link: FrameLink,
    options: RendererOptions,
) -> Result<Renderer, IpcError> {
    let FrameLink {
        mut reader,
        mut writer,
        peer,
        ..
    } = link;
    let hello = Hello {
        t: "hello".into(),
        protocol: PROTOCOL_VERSION,
        role: "renderer".into(),
        codec: options.codec.name().into(),
        contracts: options.contracts.clone(),
        label: Some(options.label.to_string()),
        renderer: None,
        max_frame: Some(options.max_frame_size as u64),
    };
    writer
        .send(wire::encode_hello(&hello).into())
        .await
        .map_err(framing_error)?;
    let answer = first_frame(&mut reader, options.handshake_timeout).await?;
    let (answer, codec) = decode_hello(&answer, &["main"])?;
    handshake::check_contracts(&options.contracts, &answer.contracts)?;
    if codec != options.codec {
        return Err(IpcError::Protocol {
            reason: format!(
                "main answered with codec `{}`, we asked for `{}`",
                codec.name(),
                options.codec.name()
            ),
        });
    }
    let id = answer.renderer.ok_or_else(|| IpcError::Protocol {
        reason: "main's hello carries no renderer id".into(),
    })?;
    let limit = peer_limit(&answer, options.max_frame_size);
    tracing::debug!(%peer, id, codec = codec.name(), "connected to main");
    let goodbye = wire::encode(
        &OutFrame::Goodbye {
            reason: "the renderer closed the connection",
        },
        codec,
    )
    .ok();
    let pending = Arc::new(PendingCalls::new());
    let outbox = Outbox::start(writer, options.queue_capacity, pending.clone(), goodbye);
    let end = RendererEnd {
        outgoing: ToMainQueue::Frames(FrameQueue {
            outbox: Arc::new(outbox),
            codec,
            limit,
        }),
        incoming: FromMain::Frames(FrameReader { reader, codec }),
        pending,
    };
    Ok(Renderer::start(RendererId(id), end, options, None))
}
