//! Main's side of a frame connection: the handshake (main answers a renderer's hello or refuses
//! it), reading the renderer's frames into messages (and what main answers to frames it cannot
//! act on), and writing main's frames.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::connection::{FromRenderer, MainEnd};
use super::{Main, PeerIdentity};
use crate::caller::RendererId;
use crate::error::IpcError;
use crate::transport::frames::{
    FrameLink, Outgoing, Reader, Writer, decode_hello, first_frame, framing_error, peer_limit,
};
use crate::transport::message::{Failure, ToMain, ToRenderer};
use crate::wire::{self, Codec, Frame, FramingError, Hello, PROTOCOL_VERSION, Payload, handshake};

/// Tells the peer why it is refused (best effort) and closes.
async fn refuse(mut writer: Writer, error: IpcError) -> IpcError {
    let _ = writer
        .send(wire::encode_handshake_error(&error).into())
        .await;
    let _ = writer.close().await;
    error
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
        incoming: FromRenderer::Frames(RendererFrames { reader, codec }),
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

/// A renderer's frames, as main reads them.
pub(crate) struct RendererFrames {
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

impl RendererFrames {
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
                let kind = other.kind();
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
