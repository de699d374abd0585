//! Frame connections (byte streams with length prefixes, or message transports such as
//! WebSocket): the link both sides read and write frames on, the steps of the handshake both
//! sides share, and the mapping of the runtime's messages to frames.
//!
//! Each side's connection task reads and decodes frames itself (main's in `main::accept`, the
//! renderer's in `renderer::connect`); no pump sits between the stream and the code that acts
//! on a frame.

use crate::caller::Peer;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Sink, Stream, StreamExt};

use super::message::{CallResult, Failure, PortMessage, ToMain, ToRenderer};
use super::{ByteLink, Link, LinkKind, Transport};
use crate::error::IpcError;
use crate::util::held::Held;
use crate::wire::chunk::{self, Assembled, Reassembly};
use crate::wire::handshake;
use crate::wire::{
    self, Codec, FrameBytes, FrameError, FrameReader, FrameWriter, FramingError, Hello, OutFrame,
    Outcome, Payload, ReplyBody, StallTimer, WireError,
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
    /// What the medium vouches for about the other side.
    pub(crate) vouched: Peer,
}

impl FrameLink {
    /// Length-prefixed frames over a byte stream: frames above `limits.max_frame` are refused,
    /// chunked messages are reassembled up to `limits.max_message`.
    /// Partial messages are counted in `held`.
    /// A frame or chunked message begun and not finished within `frame_timeout` ends the stream.
    pub(crate) fn from_bytes(
        link: ByteLink,
        limits: Limits,
        held: Held,
        frame_timeout: Option<Duration>,
    ) -> FrameLink {
        let reader = FrameReader::new(link.reader, limits.max_frame, limits.max_message, held)
            .with_frame_timeout(frame_timeout);
        // The peer's limits are enforced per message when it is encoded, once the handshake
        // has said what they are.
        let writer = FrameWriter::new(link.writer);
        FrameLink {
            reader: Box::pin(reader),
            writer: Box::pin(writer),
            peer: link.peer,
            origin: None,
            vouched: link.vouched,
        }
    }
}

/// A connection that already carries whole frames (a WebSocket) as a transport.
pub(crate) struct FrameTransport(pub(crate) FrameLink);

impl Transport for FrameTransport {
    fn into_link(self) -> Link {
        Link(LinkKind::Frames(self.0))
    }
}

/// Reads the first frame within the handshake deadline.
pub(crate) async fn first_frame(
    reader: &mut Reader,
    deadline: Duration,
) -> Result<Bytes, IpcError> {
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

pub(crate) fn framing_error(error: FramingError) -> IpcError {
    match error {
        FramingError::TooLarge { size, limit }
        | FramingError::MessageTooLarge { size, limit }
        | FramingError::OverBudget { size, limit } => IpcError::TooLarge { size, limit },
        FramingError::Truncated => IpcError::disconnected("truncated frame"),
        FramingError::Io(e) => IpcError::disconnected(format!("i/o error: {e}")),
        error @ (FramingError::Text { .. }
        | FramingError::Chunk(_)
        | FramingError::Stalled { .. }) => IpcError::Protocol {
            reason: error.to_string(),
        },
    }
}

/// How large the frames and messages one side accepts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) max_frame: usize,
    pub(crate) max_message: usize,
}

impl Limits {
    /// What `hello` announced, with `ours` for what it did not (a peer that announces no
    /// message limit takes no chunks).
    pub(crate) fn of_peer(hello: &Hello, ours: Limits) -> Limits {
        let announced = |n: Option<u64>| n.and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0);
        let max_frame = announced(hello.max_frame).unwrap_or(ours.max_frame);
        let max_message = announced(hello.max_message)
            .unwrap_or(max_frame)
            .max(max_frame)
            .min(u32::MAX as usize);
        Limits {
            max_frame,
            max_message,
        }
    }
}

/// Splits `frame` into chunks when it is longer than the peer's largest frame (it was encoded
/// within the peer's largest message). `next_id` numbers the chunked messages of one direction.
pub(crate) fn into_frames(frame: FrameBytes, limits: Limits, next_id: &mut u32) -> Vec<FrameBytes> {
    if frame.len() <= limits.max_frame {
        return vec![frame];
    }
    *next_id = next_id.wrapping_add(1);
    chunk::split(frame, *next_id, limits.max_frame)
}

/// Reassembles chunked messages of a transport that carries whole frames (a WebSocket): yields
/// messages, as `FrameReader` does for byte streams.
pub(crate) struct Reassembling<S> {
    frames: S,
    chunks: Reassembly,
    stall: StallTimer,
}

impl<S> Reassembling<S> {
    pub(crate) fn new(frames: S, max_message: usize, held: Held) -> Self {
        Reassembling {
            frames,
            chunks: Reassembly::new(max_message, held),
            stall: StallTimer::new(None),
        }
    }

    /// Fails the stream when a chunked message begun is not finished within `timeout`.
    pub(crate) fn with_frame_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.stall = StallTimer::new(timeout);
        self
    }
}

impl<S: Stream<Item = Result<Bytes, FramingError>> + Unpin> Stream for Reassembling<S> {
    type Item = Result<Bytes, FramingError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let next = match this.frames.poll_next_unpin(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => {
                    let oldest = this.chunks.oldest();
                    return this
                        .stall
                        .poll(cx, oldest)
                        .map(|stalled| Some(Err(stalled)));
                }
            };
            let frame = match next {
                Some(Ok(frame)) if frame.first() == Some(&chunk::CHUNK_TAG) => frame,
                other => return Poll::Ready(other),
            };
            match this.chunks.accept(&frame) {
                Err(error) => return Poll::Ready(Some(Err(error.into()))),
                Ok(None) => continue,
                Ok(Some(Assembled::Message(message))) => return Poll::Ready(Some(Ok(message))),
                Ok(Some(Assembled::Refused { size, limit })) => {
                    return Poll::Ready(Some(Err(FramingError::MessageTooLarge { size, limit })));
                }
            }
        }
    }
}

pub(crate) fn decode_hello(frame: &[u8], roles: &[&str]) -> Result<(Hello, Codec), IpcError> {
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

/// Encodes a message for a peer whose largest message is `limit` (the caller splits it into
/// chunks when it is longer than a frame). `Err` carries the call the message belongs to (if
/// any) and the error to report instead.
pub(crate) trait Outgoing {
    fn frame(&self) -> Result<OutFrame<'_>, IpcError>;
    /// The call this message belongs to, if any.
    fn call_id(&self) -> Option<u64>;

    fn encode(&self, codec: Codec, limit: usize) -> Result<FrameBytes, (Option<u64>, IpcError)> {
        let id = self.call_id();
        // A value's `Serialize` is the application's code, running here in the task that writes
        // for the whole connection (main's, for a handler's result): its panic fails this
        // message, as an encoding error, not the connection. The encoding contexts (ports,
        // transfers) restore themselves through guards as the panic unwinds.
        let encoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.frame().and_then(|frame| wire::encode(&frame, codec))
        }));
        let bytes = encoded.unwrap_or_else(|panic| {
            Err(IpcError::Encode {
                reason: format!(
                    "the value's Serialize panicked: {}",
                    crate::util::panic_message(&*panic)
                ),
            })
        });
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
            ToRenderer::Reply { id, result, .. } => OutFrame::Reply {
                id: *id,
                body: reply_body(result),
            },
            ToRenderer::Event {
                channel,
                payload,
                to,
                except,
            } => OutFrame::Event {
                channel,
                args: payload,
                to: *to,
                except: except.as_deref().unwrap_or_default(),
            },
            ToRenderer::Notice { id, error } => OutFrame::Error {
                id: *id,
                error: WireError::from(error),
            },
            ToRenderer::Goodbye { reason, to } => OutFrame::Goodbye { reason, to: *to },
            ToRenderer::Ping { id } => OutFrame::Ping { id: *id },
            ToRenderer::Pong { id } => OutFrame::Pong { id: *id },
            ToRenderer::Invoke {
                id,
                channel,
                args,
                timeout,
                to,
            } => OutFrame::Invoke {
                id: *id,
                channel,
                args,
                timeout_ms: timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
                to: *to,
            },
            ToRenderer::Cancel { id, to } => OutFrame::Cancel { id: *id, to: *to },
            ToRenderer::Port(message) => port_frame(message),
            ToRenderer::Lag {
                channel,
                missed,
                to,
                except,
            } => OutFrame::Lag {
                channel,
                missed: *missed,
                to: *to,
                except: except.as_deref().unwrap_or_default(),
            },
        })
    }

    fn call_id(&self) -> Option<u64> {
        match self {
            ToRenderer::Reply { id, .. } => Some(*id),
            _ => None,
        }
    }
}

fn port_frame(message: &PortMessage) -> OutFrame<'_> {
    match message {
        PortMessage::Data { port, data } => OutFrame::Port { port: *port, data },
        PortMessage::Credit { port, n } => OutFrame::Credit { port: *port, n: *n },
        PortMessage::Close {
            port,
            reason,
            outcome,
        } => OutFrame::Close {
            port: *port,
            reason: reason.as_deref(),
            outcome: match outcome {
                Outcome::Done => Outcome::Done,
                Outcome::App(value) => Outcome::App(value),
                Outcome::Error(error) => Outcome::Error(error.clone()),
            },
        },
    }
}

/// A call's result as a reply frame's body.
fn reply_body(result: &CallResult) -> ReplyBody<&Payload> {
    match result {
        Ok(value) => ReplyBody::Ok(value),
        Err(Failure::App(error)) => ReplyBody::App(error),
        Err(Failure::Ipc(error)) => ReplyBody::Error(Box::new(WireError::from(error))),
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
                to: None,
            },
            ToMain::Cancel { id } => OutFrame::Cancel { id: *id, to: None },
            ToMain::Reply { id, result } => OutFrame::Reply {
                id: *id,
                body: reply_body(result),
            },
            ToMain::Port(message) => port_frame(message),
            ToMain::Pong { id } => OutFrame::Pong { id: *id },
            ToMain::Notice { error } => OutFrame::Error {
                id: None,
                error: WireError::from(error),
            },
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
