//! Frame connections (byte streams with length prefixes, or message transports such as
//! WebSocket): the link both sides read and write frames on, the steps of the handshake both
//! sides share, and the mapping of the runtime's messages to frames.
//!
//! Each side's connection task reads and decodes frames itself (main's in `main::accept`, the
//! renderer's in `renderer::connect`); no pump sits between the stream and the code that acts
//! on a frame.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Sink, Stream, StreamExt};
use tokio_util::codec::FramedRead;

use super::message::{Failure, ToMain, ToRenderer};
use super::{ByteLink, Link, LinkKind, Transport};
use crate::error::IpcError;
use crate::wire::handshake;
use crate::wire::{
    self, Codec, FrameBytes, FrameCodec, FrameError, FrameWriter, FramingError, Hello, OutFrame,
    ReplyBody, WireError,
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
        FramingError::TooLarge { size, limit } => IpcError::TooLarge { size, limit },
        FramingError::Truncated => IpcError::disconnected("truncated frame"),
        FramingError::Io(e) => IpcError::disconnected(format!("i/o error: {e}")),
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

pub(crate) fn peer_limit(hello: &Hello, ours: usize) -> usize {
    hello
        .max_frame
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .unwrap_or(ours)
}

/// Encodes a message into one frame for a peer whose largest frame is `limit`. `Err` carries the
/// call the message belongs to (if any) and the error to report instead.
pub(crate) trait Outgoing {
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
