//! Frame connections (byte streams with length prefixes, or message transports such as
//! WebSocket): the handshake, then one reader pump and one writer pump per side that translate
//! between frames and the connection's message queues.

use std::borrow::Cow;
use std::time::Duration;

use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

use super::{ByteLink, in_process};
use crate::caller::RendererId;
use crate::codec::Codec;
use crate::error::IpcError;
use crate::framing::{FrameCodec, FramingError};
use crate::handshake;
use crate::message::{Failure, ToMain, ToRenderer};
use crate::payload::Payload;
use crate::renderer::{Renderer, RendererOptions};
use crate::router::{Main, PeerIdentity};
use crate::wire::{
    self, Frame, FrameError, Hello, OutFrame, PROTOCOL_VERSION, ReplyBody, WireError,
};

/// Incoming frame bodies.
pub(crate) type Reader = Pin<Box<dyn Stream<Item = Result<Bytes, FramingError>> + Send>>;
/// Outgoing frame bodies.
pub(crate) type Writer = Pin<Box<dyn Sink<Bytes, Error = FramingError> + Send>>;

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
        // The peer's limit is enforced per message by the writer pump, once the handshake has
        // said what it is; the codec itself only guards the u32 length prefix.
        let writer = FramedWrite::new(link.writer, FrameCodec::new(u32::MAX as usize));
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
    let _ = writer.send(wire::encode_handshake_error(&error)).await;
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
    if let Err(error) = writer.send(wire::encode_hello(&answer)).await {
        return Err(framing_error(error));
    }
    let (main_end, pumps) = in_process::pair(config.queue_capacity);
    let notices = main_end.outgoing.clone();
    let identity = PeerIdentity {
        bridge: hello.role == "bridge",
        label: hello.label.unwrap_or_else(|| peer.clone()),
        origin,
        frame_url: None,
    };
    let close = main.register_connection(id, main_end, identity).close;
    tokio::spawn(main_reader(reader, codec, pumps.outgoing, notices, close));
    tokio::spawn(write_frames(writer, limit, codec, pumps.incoming, None));
    Ok(id)
}

async fn main_reader(
    mut reader: Reader,
    codec: Codec,
    to_main: mpsc::Sender<ToMain>,
    to_renderer: mpsc::Sender<ToRenderer>,
    close: CancellationToken,
) {
    let notify = |error: IpcError| ToRenderer::Notice { id: None, error };
    let closed = close.cancelled();
    tokio::pin!(closed);
    loop {
        let next = tokio::select! {
            () = &mut closed => return,
            next = reader.next() => next,
        };
        let frame = match next {
            None => return,
            Some(Ok(frame)) => frame,
            Some(Err(FramingError::TooLarge { size, limit })) => {
                // The stream cannot be resynchronized past a refused frame: say why and close,
                // without waiting on a peer that may not be reading.
                let _ = to_renderer.try_send(notify(IpcError::TooLarge { size, limit }));
                let reason = format!("frame of {size} bytes exceeds the limit of {limit} bytes");
                let _ = to_renderer.try_send(ToRenderer::Goodbye { reason });
                return;
            }
            Some(Err(error)) => {
                tracing::debug!(%error, "renderer stream ended");
                // Say why (a truncated frame, an i/o error) instead of a bare "disconnected".
                // Best effort and without waiting: the peer may be gone or not reading.
                let reason = error.to_string();
                let _ = to_renderer.try_send(ToRenderer::Goodbye { reason });
                return;
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
                return;
            }
            Ok(Frame::Error { id, error }) => {
                tracing::warn!(?id, code = %error.code, message = %error.message, "renderer reported an error");
                continue;
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
                if to_renderer
                    .send(ToRenderer::Notice { id: None, error })
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            Err(frame_error) => {
                let id = frame_error.call_of("invoke");
                let error = IpcError::Protocol {
                    reason: frame_error.reason,
                };
                let notice = match id {
                    Some(id) => ToRenderer::Reply {
                        id,
                        result: Err(Failure::Ipc(error)),
                    },
                    None => notify(error),
                };
                if to_renderer.send(notice).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if to_main.send(message).await.is_err() {
            return;
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

/// Anything a writer pump can turn into a frame.
pub(crate) trait Outgoing: Send + 'static {
    /// Encodes the message. `Err` carries the call id (if any) and the error to report instead.
    fn encode(&self, codec: Codec) -> Result<Bytes, (Option<u64>, IpcError)>;
    fn is_goodbye(&self) -> bool;
    /// The call this message belongs to, if any.
    fn call_id(&self) -> Option<u64>;
}

impl Outgoing for ToRenderer {
    fn encode(&self, codec: Codec) -> Result<Bytes, (Option<u64>, IpcError)> {
        let wire_error;
        let frame = match self {
            ToRenderer::Reply { id, result } => {
                let body = match result {
                    Ok(value) => ReplyBody::Ok(value),
                    Err(Failure::App(error)) => ReplyBody::App(error),
                    Err(Failure::Ipc(error)) => {
                        wire_error = WireError::from(error);
                        ReplyBody::Error(wire_error.clone())
                    }
                };
                let frame = OutFrame::Reply { id: *id, body };
                return wire::encode(&frame, codec).map_err(|e| (Some(*id), e));
            }
            ToRenderer::Event {
                channel,
                payload,
                to,
            } => OutFrame::Event {
                channel,
                args: payload,
                to: *to,
            },
            ToRenderer::Notice { id, error } => {
                wire_error = WireError::from(error);
                OutFrame::Error {
                    id: *id,
                    error: &wire_error,
                }
            }
            ToRenderer::Goodbye { reason } => OutFrame::Goodbye { reason },
        };
        wire::encode(&frame, codec).map_err(|e| (None, e))
    }

    fn is_goodbye(&self) -> bool {
        matches!(self, ToRenderer::Goodbye { .. })
    }

    fn call_id(&self) -> Option<u64> {
        match self {
            ToRenderer::Reply { id, .. } => Some(*id),
            _ => None,
        }
    }
}

impl Outgoing for ToMain {
    fn encode(&self, codec: Codec) -> Result<Bytes, (Option<u64>, IpcError)> {
        let frame = match self {
            ToMain::Invoke {
                id,
                channel,
                args,
                timeout,
                ..
            } => {
                let frame = OutFrame::Invoke {
                    id: *id,
                    channel,
                    args,
                    timeout_ms: timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
                };
                return wire::encode(&frame, codec).map_err(|e| (Some(*id), e));
            }
            ToMain::Cancel { id } => OutFrame::Cancel { id: *id },
            ToMain::Send { channel, args, .. } => OutFrame::Send { channel, args },
            ToMain::Detach { .. } => {
                let reason = "a Rust renderer has no windows to detach".to_string();
                return Err((None, IpcError::Protocol { reason }));
            }
        };
        wire::encode(&frame, codec).map_err(|e| (None, e))
    }

    fn is_goodbye(&self) -> bool {
        false
    }

    fn call_id(&self) -> Option<u64> {
        match self {
            ToMain::Invoke { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// Writes queued messages as frames, flushing whenever the queue runs dry (so bursts share a
/// flush). A message that cannot be encoded or is over the peer's frame limit fails its own
/// call (a reply carrying the error) instead of the connection.
async fn write_frames<M: Outgoing>(
    mut writer: Writer,
    limit: usize,
    codec: Codec,
    mut queue: mpsc::Receiver<M>,
    failures: Option<mpsc::Sender<ToRenderer>>,
) {
    // Whether the loop ended because every sender of the queue is gone (not on a goodbye or a
    // write error).
    let mut queue_closed = true;
    while let Some(message) = queue.recv().await {
        let goodbye = message.is_goodbye();
        let encoded = message.encode(codec).and_then(|bytes| {
            if bytes.len() > limit {
                Err((
                    message.call_id(),
                    IpcError::TooLarge {
                        size: bytes.len(),
                        limit,
                    },
                ))
            } else {
                Ok(bytes)
            }
        });
        match encoded {
            Ok(bytes) => {
                if writer.feed(bytes).await.is_err() {
                    break;
                }
            }
            Err((id, error)) => {
                tracing::warn!(%error, ?id, "message not sent");
                match (&failures, id) {
                    // Renderer side: fail the local call.
                    (Some(local), Some(id)) => {
                        let _ = local
                            .send(ToRenderer::Reply {
                                id,
                                result: Err(Failure::Ipc(error)),
                            })
                            .await;
                    }
                    // Main side: tell the renderer, in place of the reply.
                    (None, Some(id)) => {
                        let reply = ToRenderer::Reply {
                            id,
                            result: Err(Failure::Ipc(error)),
                        };
                        if let Ok(bytes) = reply.encode(codec) {
                            if writer.feed(bytes).await.is_err() {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        if (goodbye || queue.is_empty()) && writer.flush().await.is_err() {
            queue_closed = false;
            break;
        }
        if goodbye {
            queue_closed = false;
            break;
        }
    }
    // Renderer side: every handle was dropped. Say goodbye, because closing our end of the
    // stream may not end it for main (stdio: the pipes are duplicated file descriptors).
    if queue_closed && failures.is_some() {
        let goodbye = wire::encode(
            &OutFrame::Goodbye {
                reason: "the renderer closed the connection",
            },
            codec,
        );
        if let Ok(bytes) = goodbye {
            let _ = writer.send(bytes).await;
        }
    }
    let _ = writer.close().await;
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
        .send(wire::encode_hello(&hello))
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
    let (pumps, end) = in_process::pair(options.queue_capacity);
    let to_renderer = pumps.outgoing;
    tokio::spawn(renderer_reader(reader, codec, to_renderer.clone()));
    tokio::spawn(write_frames(
        writer,
        limit,
        codec,
        pumps.incoming,
        Some(to_renderer),
    ));
    Ok(Renderer::start(RendererId(id), end, options, None))
}

async fn renderer_reader(mut reader: Reader, codec: Codec, to_renderer: mpsc::Sender<ToRenderer>) {
    while let Some(next) = reader.next().await {
        let frame = match next {
            Ok(frame) => frame,
            Err(error) => {
                tracing::warn!(%error, "connection to main failed");
                let reason = framing_error(error).to_string();
                let _ = to_renderer.send(ToRenderer::Goodbye { reason }).await;
                return;
            }
        };
        let message = match wire::decode(frame, codec) {
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
            Ok(Frame::Goodbye { reason }) => {
                let _ = to_renderer.send(ToRenderer::Goodbye { reason }).await;
                return;
            }
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
        if to_renderer.send(message).await.is_err() {
            return;
        }
    }
    // End of stream without a goodbye (main crashed or cut the connection). The writer pump
    // holds a clone of `to_renderer` until the renderer is dropped, so the renderer would not
    // notice on its own: close it here, failing pending calls with `Disconnected`.
    let reason = "the connection ended without a goodbye".to_string();
    let _ = to_renderer.send(ToRenderer::Goodbye { reason }).await;
}
