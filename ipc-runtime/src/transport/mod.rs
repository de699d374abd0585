//! Transports: what carries messages between `Main` and a renderer.
//!
//! Every transport ends in the same two ends ([`MainEnd`] and [`RendererEnd`]), so the router
//! and the renderer client are written once and the conformance suite runs unchanged on each.
//! In-process connections carry typed values on bounded queues; frame connections (byte streams,
//! WebSocket) are read and written by the connection's own tasks, with no pump in between
//! (`docs/ARCHITECTURE.md`).

pub(crate) mod in_process;
pub(crate) mod outbox;
pub(crate) mod stdio;
pub(crate) mod stream;
pub(crate) mod unix;
pub(crate) mod websocket;

use std::fmt;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use std::sync::Arc;

use crate::message::{ToMain, ToRenderer};
use crate::pending::PendingCalls;

pub use in_process::InProcess;
pub use stdio::{ChildRenderer, Stdio};
pub use unix::UnixListenerHandle;
pub use websocket::{WebSocketListener, WebSocketOptions};

/// Main's end of one renderer connection.
pub(crate) struct MainEnd {
    pub(crate) incoming: FromRenderer,
    /// How every task other than the connection's own reaches the renderer (events, replies of
    /// calls that had to wait, notices). In process the renderer reads this queue itself; on a
    /// frame connection main's connection task drains it into `writer`.
    pub(crate) outgoing: mpsc::Sender<ToRenderer>,
    pub(crate) writer: Option<stream::MainWriter>,
}

/// What main reads from a renderer.
pub(crate) enum FromRenderer {
    Messages(mpsc::Receiver<ToMain>),
    Frames(stream::FrameReader),
}

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
    Frames(stream::FrameQueue),
}

/// What a renderer reads from main.
pub(crate) enum FromMain {
    Messages(mpsc::Receiver<ToRenderer>),
    Frames(stream::FrameReader),
}

/// A medium that carries one connection between main and a renderer: a Unix socket, a child
/// process's stdio, an in-process pair, or any byte stream wrapped in [`ByteStream`].
///
/// Hand a transport to [`Main::accept`](crate::Main::accept) on the main side and to
/// [`Renderer::connect`](crate::Renderer::connect) on the renderer side. The trait is sealed
/// through its hidden method; new byte media plug in through [`ByteStream`] (for example a
/// Windows named pipe's read and write halves).
///
/// # Examples
///
/// ```
/// use ipc_runtime::{ByteStream, Main, Renderer, RendererOptions};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (a, b) = tokio::io::duplex(64 * 1024);
/// let (a_read, a_write) = tokio::io::split(a);
/// let (b_read, b_write) = tokio::io::split(b);
/// let main = Main::new();
/// let accept = tokio::spawn({
///     let main = main.clone();
///     async move { main.accept(ByteStream::new(a_read, a_write)).await }
/// });
/// let renderer = Renderer::connect(ByteStream::new(b_read, b_write), RendererOptions::new("r"))
///     .await
///     .unwrap();
/// assert_eq!(accept.await.unwrap().unwrap(), renderer.id());
/// # }
/// ```
pub trait Transport: Send + 'static {
    #[doc(hidden)]
    fn into_link(self) -> Link;
}

/// What a transport hands the runtime (opaque).
#[doc(hidden)]
pub struct Link(pub(crate) LinkKind);

pub(crate) enum LinkKind {
    Bytes(ByteLink),
    Frames(stream::FrameLink),
    InProcess(InProcess),
}

pub(crate) struct ByteLink {
    pub(crate) reader: Box<dyn AsyncRead + Unpin + Send>,
    pub(crate) writer: Box<dyn AsyncWrite + Unpin + Send>,
    pub(crate) peer: String,
}

/// Any pair of byte-stream halves as a transport.
///
/// # Examples
///
/// ```
/// use ipc_runtime::ByteStream;
///
/// let (a, _b) = tokio::io::duplex(1024);
/// let (read, write) = tokio::io::split(a);
/// let transport = ByteStream::new(read, write).peer("test pipe");
/// # let _ = transport;
/// ```
pub struct ByteStream {
    link: ByteLink,
}

impl ByteStream {
    /// Wraps a reader and a writer (the two halves of one connection).
    pub fn new(
        reader: impl AsyncRead + Unpin + Send + 'static,
        writer: impl AsyncWrite + Unpin + Send + 'static,
    ) -> Self {
        ByteStream {
            link: ByteLink {
                reader: Box::new(reader),
                writer: Box::new(writer),
                peer: "byte stream".into(),
            },
        }
    }

    /// A description of the peer for logs.
    pub fn peer(mut self, peer: impl Into<String>) -> Self {
        self.link.peer = peer.into();
        self
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStream")
            .field("peer", &self.link.peer)
            .finish()
    }
}

impl Transport for ByteStream {
    fn into_link(self) -> Link {
        Link(LinkKind::Bytes(self.link))
    }
}

impl Transport for tokio::net::UnixStream {
    fn into_link(self) -> Link {
        let peer = self
            .peer_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "unix socket".into());
        let (reader, writer) = self.into_split();
        ByteStream::new(reader, writer).peer(peer).into_link()
    }
}
