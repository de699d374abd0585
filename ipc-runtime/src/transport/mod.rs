//! Transports: what carries one connection between main and a renderer, and the messages it
//! carries.
//!
//! A transport becomes a [`Link`]: a byte stream (Unix socket, stdio, any [`ByteStream`]), a
//! connection that already carries whole frames (WebSocket), or an in-process pair. Main's side
//! (`main`) and the renderer's side (`renderer`) each turn a link into their end of the
//! connection; the transport layer knows neither of them. In-process connections carry the
//! runtime's `message`s as typed values; frame connections carry them as wire frames
//! (`frames`).

pub(crate) mod frames;
pub(crate) mod in_process;
pub(crate) mod mailbox;
pub(crate) mod message;
mod stdio;
mod unix;
pub(crate) mod websocket;

use std::fmt;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::caller::Peer;

pub use in_process::InProcess;
pub use stdio::Stdio;

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
    Frames(frames::FrameLink),
    InProcess(InProcess),
}

pub(crate) struct ByteLink {
    pub(crate) reader: Box<dyn AsyncRead + Unpin + Send>,
    pub(crate) writer: Box<dyn AsyncWrite + Unpin + Send>,
    pub(crate) peer: String,
    /// What the medium vouches for about the other side.
    pub(crate) vouched: Peer,
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
                vouched: Peer::Unknown,
            },
        }
    }

    /// A description of the peer for logs.
    pub fn peer(mut self, peer: impl Into<String>) -> Self {
        self.link.peer = peer.into();
        self
    }

    /// What the medium vouches for (the runtime's own transports only: an application's
    /// stream vouches for nothing).
    pub(crate) fn vouched(mut self, vouched: Peer) -> Self {
        self.link.vouched = vouched;
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
