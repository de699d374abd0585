//! Main's side of a frame connection: the handshake (main answers a renderer's hello or refuses
//! it), reading the renderer's frames into messages (and what main answers to frames it cannot
//! act on), and writing main's frames.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};

use super::connection::{FromRenderer, MainEnd};
use super::{Main, PeerIdentity};
use crate::caller::RendererId;
use crate::error::IpcError;
use crate::port::{Announce, ConnPorts, PortLimits, PortWire, Recipient, Side};
use crate::transport::LinkKind;
use crate::transport::frames::{
    FrameLink, Limits, Outgoing, Reader, Writer, decode_hello, first_frame, into_frames,
};
use crate::transport::mailbox::{Mail, Mailbox};
use crate::transport::message::{Failure, PortMessage, ToMain, ToRenderer};
use crate::util::held::Held;
use crate::util::slots::Slot;
use crate::wire::{
    self, Codec, Frame, FrameBytes, FramingError, Hello, PROTOCOL_VERSION, Payload, ReplyBody,
    handshake,
};

/// Chunked replies main interleaves with its other frames at once; more wait their turn.
const TRANSFERS_AT_ONCE: usize = 4;

/// Tells the peer why it is refused (best effort) and closes.
async fn refuse(mut writer: Writer, error: IpcError) -> IpcError {
    let _ = writer
        .send(wire::encode_handshake_error(&error).into())
        .await;
    let _ = writer.close().await;
    error
}

/// Refuses a connection before its handshake (main is at a connection limit): the error frame
/// goes out at once, nothing of the peer's is read.
pub(crate) async fn refuse_link(main: &Main, link: LinkKind, error: IpcError) -> IpcError {
    let config = &main.inner.config;
    let writer = match link {
        LinkKind::Bytes(link) => {
            FrameLink::from_bytes(link, config.limits(), Held::default(), None).writer
        }
        LinkKind::Frames(link) => link.writer,
        LinkKind::InProcess(_) => return error,
    };
    tracing::warn!(%error, "connection refused");
    // A peer that does not read holds nothing: the refusal is given up after the handshake
    // deadline.
    match tokio::time::timeout(config.handshake_timeout, refuse(writer, error.clone())).await {
        Ok(error) => error,
        Err(_) => error,
    }
}

/// Main's side of a byte connection: handshake, then serve. The connection holds `slots` until
/// it ends.
pub(crate) async fn accept(
    main: &Main,
    link: FrameLink,
    allow_bridge: bool,
    slots: Vec<Slot>,
) -> Result<RendererId, IpcError> {
    let config = main.inner.config.clone();
    let FrameLink {
        mut reader,
        writer,
        peer,
        origin,
        vouched,
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
        // A bridge's frames name windows (`sender`, `to`, `except`), which the binary codec's
        // headers do not carry.
        if hello.role == "bridge" && codec == Codec::Binary {
            return Err(IpcError::Protocol {
                reason: "a bridge speaks the JSON or the msgpack codec (its frames name windows)"
                    .into(),
            });
        }
        handshake::check_contracts(&main.contracts(), &hello.contracts)?;
        Ok((hello, codec))
    }) {
        Ok(accepted) => accepted,
        Err(error) => {
            tracing::warn!(%peer, %error, "renderer refused at the handshake");
            return Err(refuse(writer, error).await);
        }
    };
    let limits = Limits::of_peer(&hello, config.limits());
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
        max_message: Some(config.max_message_size as u64),
        port_window: Some(config.port_window as u64),
        max_ports: Some(config.max_ports as u64),
    };
    let outgoing = Arc::new(Mailbox::new(config.queue_capacity));
    let ports = ConnPorts::new(
        Side::Main,
        PortLimits::new(config.port_window, hello.port_window, config.max_ports),
        Box::new(MainPortWire(Arc::downgrade(&outgoing))),
    );
    let end = MainEnd {
        incoming: FromRenderer::Frames(RendererFrames {
            reader,
            codec,
            ports: ports.clone(),
        }),
        outgoing,
        writer: Some(MainWriter::new(writer, codec, limits, ports.clone())),
        slots,
        ports: Some(ports),
    };
    let identity = PeerIdentity {
        bridge: hello.role == "bridge",
        label: hello.label.unwrap_or_else(|| peer.clone()),
        origin,
        frame_url: None,
        peer: vouched,
    };
    // Registered before the hello goes out: once the renderer has main's hello, an event
    // emitted to it reaches it (the connection's task writes the hello before anything else).
    let hello = FrameBytes::from(wire::encode_hello(&answer));
    main.register_connection(id, end, identity, Some(hello));
    Ok(id)
}

/// Main's port frames go into the connection's mailbox, in order with everything else.
struct MainPortWire(Weak<Mailbox>);

impl PortWire for MainPortWire {
    fn post(&self, ports: &Arc<ConnPorts>, message: PortMessage) {
        if let Some(mailbox) = self.0.upgrade() {
            if DELIVERING.get() == Arc::as_ptr(ports) as usize {
                // Posted while the connection task delivers a port frame of this connection
                // (an object answering at once): the task reads its mailbox before it waits.
                mailbox.push_quietly(ToRenderer::Port(message));
            } else {
                mailbox.push(ToRenderer::Port(message));
            }
        }
    }
}

thread_local! {
    /// The connection (its `ConnPorts`, by address) whose port frame this thread is delivering
    /// in that connection's task; 0 when none.
    static DELIVERING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks this thread as delivering a port frame of `ports` until dropped.
struct Delivering(usize);

impl Delivering {
    fn of(ports: &Arc<ConnPorts>) -> Delivering {
        Delivering(DELIVERING.replace(Arc::as_ptr(ports) as usize))
    }
}

impl Drop for Delivering {
    fn drop(&mut self) {
        DELIVERING.set(self.0);
    }
}

/// A renderer's frames, as main reads them.
pub(crate) struct RendererFrames {
    reader: Reader,
    codec: Codec,
    /// The connection's ports, which port frames go to.
    ports: Arc<ConnPorts>,
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
            // The message's chunks were skipped: the stream goes on.
            Some(Err(FramingError::MessageTooLarge { size, limit })) => {
                let error = IpcError::TooLarge { size, limit };
                return Inbound::Answer(ToRenderer::Notice { id: None, error });
            }
            // Main would hold more than its budget for unfinished messages: this renderer's
            // message is refused, and with it the connection (its stream is mid-frame).
            Some(Err(FramingError::OverBudget { size, limit })) => {
                return Inbound::End {
                    notice: Some(IpcError::TooLarge { size, limit }),
                    reason: format!(
                        "{size} bytes would be held for unfinished messages, above main's \
                         limit of {limit} bytes"
                    ),
                };
            }
            Some(Err(error @ (FramingError::Chunk(_) | FramingError::Stalled { .. }))) => {
                let reason = error.to_string();
                return Inbound::End {
                    notice: Some(IpcError::Protocol {
                        reason: reason.clone(),
                    }),
                    reason,
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
        let ports = &self.ports;
        let notice = |error| Inbound::Answer(ToRenderer::Notice { id: None, error });
        let message = match wire::decode(frame, codec) {
            Ok(Frame::Invoke {
                id,
                channel,
                args,
                timeout_ms,
                sender,
                ports: transferred,
                ..
            }) => match ports.open_there(transferred) {
                Ok(context) => ToMain::Invoke {
                    id,
                    channel: Cow::Owned(channel),
                    args: Payload::encoded_with(codec, args, context),
                    timeout: timeout_ms.map(Duration::from_millis),
                    sender,
                },
                Err(error) => {
                    return Inbound::Answer(ToRenderer::Reply {
                        id,
                        result: Err(Failure::Ipc(error)),
                        window: None,
                    });
                }
            },
            Ok(Frame::Cancel { id, .. }) => ToMain::Cancel { id },
            Ok(Frame::Send {
                channel,
                args,
                sender,
                ports: transferred,
            }) => match ports.open_there(transferred) {
                Ok(context) => ToMain::Send {
                    channel: Cow::Owned(channel),
                    args: Payload::encoded_with(codec, args, context),
                    sender,
                },
                Err(error) => return notice(error),
            },
            // The renderer's answer to one of main's requests.
            Ok(Frame::Reply {
                id,
                body,
                ports: transferred,
            }) => {
                let context = match ports.open_there(transferred) {
                    Ok(context) => context,
                    Err(error) => {
                        // The request fails rather than waiting for its deadline.
                        return Inbound::Message(ToMain::Reply {
                            id,
                            result: Err(Failure::Ipc(error)),
                        });
                    }
                };
                ToMain::Reply {
                    id,
                    result: match body {
                        ReplyBody::Ok(value) => Ok(Payload::encoded_with(codec, value, context)),
                        ReplyBody::App(error) => {
                            Err(Failure::App(Payload::encoded_with(codec, error, context)))
                        }
                        ReplyBody::Error(error) => Err(Failure::Ipc((*error).into())),
                    },
                }
            }
            Ok(frame @ (Frame::Port { .. } | Frame::Credit { .. } | Frame::Close { .. })) => {
                let _delivering = Delivering::of(ports);
                return match ports.apply(frame, codec) {
                    Ok(()) => Inbound::Skip,
                    Err(error) => notice(error),
                };
            }
            Ok(Frame::Detach { sender }) => ToMain::Detach { sender },
            Ok(Frame::Ping { id }) => return Inbound::Answer(ToRenderer::Pong { id }),
            // Any frame is a sign of life; a pong is nothing more.
            Ok(Frame::Pong { id }) => {
                tracing::trace!(id, "pong");
                return Inbound::Skip;
            }
            Ok(Frame::Goodbye { reason, .. }) => {
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
                    reason: format!(
                        "unexpected `{kind}` frame: main does not receive {kind} frames"
                    ),
                };
                return notice(error);
            }
            Err(frame_error) => {
                if let Some(id) = frame_error.call_of("reply") {
                    // An answer to one of main's requests that cannot be read still ends it.
                    return Inbound::Message(ToMain::Reply {
                        id,
                        result: Err(Failure::Ipc(IpcError::Protocol {
                            reason: frame_error.reason,
                        })),
                    });
                }
                let id = frame_error.call_of("invoke");
                let error = IpcError::Protocol {
                    reason: frame_error.reason,
                };
                return Inbound::Answer(match id {
                    Some(id) => ToRenderer::Reply {
                        id,
                        result: Err(Failure::Ipc(error)),
                        window: None,
                    },
                    None => ToRenderer::Notice { id: None, error },
                });
            }
        };
        Inbound::Message(message)
    }
}

/// A chunked reply being written: its chunks, and the ports it transferred, which send nothing
/// until its last chunk is out.
struct Transfer {
    chunks: VecDeque<FrameBytes>,
    _announce: Announce,
}

/// Main's writing half of a frame connection, owned by the connection's task.
pub(crate) struct MainWriter {
    sink: Writer,
    codec: Codec,
    /// The connection's ports: messages that carry port ends and streams open them here.
    ports: Arc<ConnPorts>,
    /// The renderer's limits.
    limits: Limits,
    /// Frames written since the last flush.
    unflushed: usize,
    /// Chunked replies being written, interleaved with other frames (at most
    /// `TRANSFERS_AT_ONCE`), then those waiting to start.
    transfers: VecDeque<Transfer>,
    waiting: VecDeque<Transfer>,
    /// Whether a chunk goes next (it alternates with other frames while transfers run).
    chunk_turn: bool,
    next_chunked: u32,
}

impl MainWriter {
    pub(crate) fn new(sink: Writer, codec: Codec, limits: Limits, ports: Arc<ConnPorts>) -> Self {
        MainWriter {
            sink,
            codec,
            ports,
            limits,
            unflushed: 0,
            transfers: VecDeque::new(),
            waiting: VecDeque::new(),
            chunk_turn: false,
            next_chunked: 0,
        }
    }

    /// Whether one more frame may be written (`Pending` while the peer is not reading and the
    /// buffer is full).
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

    /// Writes a frame as it is (main's hello).
    pub(crate) fn write_frame(&mut self, frame: FrameBytes) -> Result<(), FramingError> {
        self.sink.as_mut().start_send(frame)?;
        self.unflushed += 1;
        Ok(())
    }

    /// Whether a chunk of a large reply should go before the next mail: chunks alternate with
    /// other frames, so a large reply holds up nothing behind it.
    pub(crate) fn chunk_due(&self) -> bool {
        !self.transfers.is_empty() && self.chunk_turn
    }

    /// Whether chunked replies are being written.
    pub(crate) fn has_transfers(&self) -> bool {
        !self.transfers.is_empty()
    }

    /// Writes the next chunk of the transfer whose turn it is.
    pub(crate) fn write_chunk(&mut self) -> Result<(), FramingError> {
        self.chunk_turn = false;
        let Some(mut transfer) = self.transfers.pop_front() else {
            return Ok(());
        };
        if let Some(chunk) = transfer.chunks.pop_front() {
            self.write_frame(chunk)?;
        }
        if transfer.chunks.is_empty() {
            if let Some(next) = self.waiting.pop_front() {
                self.transfers.push_back(next);
            }
        } else {
            self.transfers.push_back(transfer);
        }
        Ok(())
    }

    /// Notes that other mail was written: a chunk may go next.
    fn mail_written(&mut self) {
        self.chunk_turn = true;
    }

    /// Writes one message (after `poll_ready`). A message that cannot be encoded or is over the
    /// renderer's message limit fails its own call (an error reply in its place) instead of the
    /// connection. A message longer than a frame goes in chunks: a reply's chunks interleave with
    /// later frames; anything else's go out whole before them (events keep their order).
    /// `recipient`: the window behind a bridge the message is for, which holds the handles it
    /// carries (`None`: the connection's renderer).
    pub(crate) fn write(
        &mut self,
        message: &ToRenderer,
        recipient: Option<Recipient>,
    ) -> Result<(), FramingError> {
        self.mail_written();
        let encoded = crate::port::encoding(&self.ports, recipient, || {
            message.encode(self.codec, self.limits.max_message)
        });
        let (bytes, announce) = match encoded {
            Ok(encoded) => encoded,
            Err((id, error)) => {
                tracing::warn!(%error, ?id, "message not sent");
                let Some(id) = id else {
                    return Ok(());
                };
                let reply = ToRenderer::Reply {
                    id,
                    result: Err(Failure::Ipc(error)),
                    window: None,
                };
                match reply.encode(self.codec, self.limits.max_frame) {
                    Ok(bytes) => (bytes, Announce::empty()),
                    Err(_) => return Ok(()),
                }
            }
        };
        if bytes.len() <= self.limits.max_frame {
            return self.write_frame(bytes);
        }
        let frames = into_frames(bytes, self.limits, &mut self.next_chunked);
        if matches!(message, ToRenderer::Reply { .. }) {
            let transfer = Transfer {
                chunks: VecDeque::from(frames),
                _announce: announce,
            };
            if self.transfers.len() < TRANSFERS_AT_ONCE {
                self.transfers.push_back(transfer);
            } else {
                self.waiting.push_back(transfer);
            }
            return Ok(());
        }
        for frame in frames {
            self.write_frame(frame)?;
        }
        Ok(())
    }

    /// Writes whatever is left (transfers under way, then the mailbox, which must be closed, up
    /// to the goodbye in it) and closes the stream; gives up after `grace` (a peer that stopped
    /// reading never holds the connection open).
    pub(crate) async fn finish(mut self, mailbox: &Mailbox, grace: Duration) {
        let write_all = async {
            while !self.transfers.is_empty() {
                std::future::poll_fn(|cx| self.poll_ready(cx)).await?;
                self.write_chunk()?;
            }
            while let Some(mail) = std::future::poll_fn(|cx| mailbox.poll_next(cx)).await {
                if let Mail::Message(message) = mail {
                    std::future::poll_fn(|cx| self.poll_ready(cx)).await?;
                    // Closing: a handle that still goes out is judged as the connection's.
                    self.write(&message, None)?;
                    while !self.transfers.is_empty() {
                        std::future::poll_fn(|cx| self.poll_ready(cx)).await?;
                        self.write_chunk()?;
                    }
                }
            }
            self.sink.close().await
        };
        let _ = tokio::time::timeout(grace, write_all).await;
    }
}
