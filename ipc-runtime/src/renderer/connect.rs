//! How a renderer connects: over any transport (the handshake on frame connections, the
//! in-process hello), and the shortcuts for a Unix socket, this process's stdio and a WebSocket.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use futures_util::SinkExt;
use tokio::sync::oneshot;

use super::end::{FrameQueue, FromMain, MainFrames, RendererEnd, RendererPortWire, ToMainQueue};
use super::outbox::Outbox;
use super::pending::PendingCalls;
use super::{Renderer, RendererOptions};
use crate::caller::RendererId;
use crate::error::IpcError;
use crate::port::{self, ConnPorts, PortLimits};
use crate::transport::frames::{
    FrameLink, FrameTransport, Limits, decode_hello, first_frame, framing_error,
};
use crate::transport::in_process::{LocalHello, Side};
use crate::transport::{LinkKind, Stdio, Transport, websocket};
use crate::util::held::Held;
use crate::wire::{self, Hello, OutFrame, PROTOCOL_VERSION, handshake};

impl Renderer {
    /// Connects to main over `transport` (a Unix socket, stdio, an in-process end, any
    /// [`ByteStream`](crate::ByteStream)) and performs the handshake.
    ///
    /// # Errors
    ///
    /// [`IpcError::VersionMismatch`] when main was built from a different contract or protocol
    /// version (the message names both hashes); [`IpcError::Protocol`] or
    /// [`IpcError::Disconnected`] when the handshake fails.
    pub async fn connect(
        transport: impl Transport,
        options: RendererOptions,
    ) -> Result<Renderer, IpcError> {
        match transport.into_link().0 {
            LinkKind::Bytes(link) => {
                let link = FrameLink::from_bytes(link, options.limits(), Held::default(), None);
                connect_frames(link, options).await
            }
            LinkKind::Frames(link) => connect_frames(link, options).await,
            LinkKind::InProcess(end) => match end.side {
                Side::Renderer(hello) => {
                    let (answer, answered) = oneshot::channel();
                    let sent = hello.send(LocalHello {
                        label: options.label.to_string(),
                        origin: options.origin.as_deref().map(str::to_string),
                        frame_url: options.frame_url.as_deref().map(str::to_string),
                        contracts: options.contracts.clone(),
                        capacity: options.queue_capacity,
                        answer,
                    });
                    if sent.is_err() {
                        return Err(IpcError::disconnected("main's end was dropped"));
                    }
                    let welcome = tokio::time::timeout(options.handshake_timeout, answered)
                        .await
                        .map_err(|_| IpcError::Protocol {
                            reason: format!(
                                "main did not accept within {:?}",
                                options.handshake_timeout
                            ),
                        })?
                        .map_err(|_| IpcError::disconnected("main dropped the connection"))??;
                    Ok(Renderer::start_in_process(
                        welcome.id,
                        welcome.queues,
                        options,
                        welcome.route,
                    ))
                }
                Side::Main(_) => Err(IpcError::Protocol {
                    reason: "this is main's end of the in-process pair".into(),
                }),
            },
        }
    }

    /// Connects to main listening on a Unix socket at `path`.
    ///
    /// # Errors
    ///
    /// [`IpcError::Disconnected`] when nothing listens there, or as [`Renderer::connect`].
    pub async fn connect_unix(
        path: impl AsRef<std::path::Path>,
        options: RendererOptions,
    ) -> Result<Renderer, IpcError> {
        let path = path.as_ref();
        let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| {
            IpcError::disconnected(format!("cannot connect to {}: {e}", path.display()))
        })?;
        Renderer::connect(stream, options).await
    }

    /// Connects to main over this process's stdin and stdout (for a renderer that main started
    /// with [`Main::spawn_renderer`](crate::Main::spawn_renderer)). Write logs to stderr: stdout
    /// carries the protocol.
    ///
    /// # Errors
    ///
    /// As [`Renderer::connect`].
    pub async fn connect_stdio(options: RendererOptions) -> Result<Renderer, IpcError> {
        Renderer::connect(Stdio::current(), options).await
    }

    /// Connects to main's WebSocket endpoint at `url` (as from
    /// [`WebSocketListener::url`](crate::WebSocketListener::url)), sending `origin` as the `Origin` header when given.
    ///
    /// # Errors
    ///
    /// [`IpcError::Forbidden`] when main refuses the upgrade (wrong token or origin), otherwise
    /// as [`Renderer::connect`].
    pub async fn connect_websocket(
        url: &str,
        origin: Option<&str>,
        options: RendererOptions,
    ) -> Result<Renderer, IpcError> {
        let link = websocket::connect(url, origin, options.limits()).await?;
        Renderer::connect(FrameTransport(link), options).await
    }
}

/// The renderer's side of a frame connection: handshake, then start the client.
async fn connect_frames(link: FrameLink, options: RendererOptions) -> Result<Renderer, IpcError> {
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
        max_message: Some(options.max_message_size as u64),
        port_window: Some(options.port_window as u64),
        max_ports: Some(options.max_ports as u64),
    };
    if let Err(error) = writer.send(wire::encode_hello(&hello).into()).await {
        // Main may have refused us before reading anything (it is at its connection limit)
        // and closed: its reason is there to read even though our hello could not go.
        let refusal = first_frame(&mut reader, options.handshake_timeout).await;
        if let Ok(frame) = refusal {
            decode_hello(&frame, &["main"])?;
        }
        return Err(framing_error(error));
    }
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
    let limits = Limits::of_peer(&answer, options.limits());
    tracing::debug!(%peer, id, codec = codec.name(), "connected to main");
    let goodbye = wire::encode(
        &OutFrame::Goodbye {
            reason: "the renderer closed the connection",
            to: None,
        },
        codec,
    )
    .ok();
    let pending = Arc::new(PendingCalls::new());
    let outbox = Arc::new(Outbox::start(
        writer,
        options.queue_capacity,
        pending.clone(),
        goodbye,
    ));
    let chunked = Arc::new(AtomicU32::new(0));
    let ports = ConnPorts::new(
        port::Side::Renderer,
        PortLimits::new(options.port_window, answer.port_window, options.max_ports),
        Box::new(RendererPortWire {
            outbox: Arc::downgrade(&outbox),
            codec,
            limits,
            chunked: chunked.clone(),
        }),
    );
    let end = RendererEnd {
        outgoing: ToMainQueue::Frames(FrameQueue {
            outbox,
            codec,
            limits,
            chunked,
            ports: ports.clone(),
        }),
        incoming: FromMain::Frames(MainFrames {
            reader,
            codec,
            ports,
        }),
        pending,
    };
    Ok(Renderer::start(
        RendererId(id),
        end,
        options,
        None,
        answer.contracts,
    ))
}
