//! The in-process transport: two bounded queues, values moved as themselves (never serialized).

use std::collections::BTreeMap;
use std::fmt;

use tokio::sync::{mpsc, oneshot};

use super::{FromMain, FromRenderer, Link, LinkKind, MainEnd, RendererEnd, ToMainQueue, Transport};
use crate::caller::RendererId;
use crate::error::IpcError;

/// A connected pair of ends with `capacity` messages of buffer in each direction.
pub(crate) fn pair(capacity: usize) -> (MainEnd, RendererEnd) {
    let (to_main, incoming) = mpsc::channel(capacity);
    let (to_renderer, from_main) = mpsc::channel(capacity);
    (
        MainEnd {
            incoming: FromRenderer::Messages(incoming),
            outgoing: to_renderer,
            writer: None,
        },
        RendererEnd {
            outgoing: ToMainQueue::Messages(to_main),
            incoming: FromMain::Messages(from_main),
            pending: Default::default(),
        },
    )
}

/// What an in-process renderer tells main when it connects.
pub(crate) struct LocalHello {
    pub(crate) label: String,
    pub(crate) origin: Option<String>,
    pub(crate) frame_url: Option<String>,
    pub(crate) contracts: BTreeMap<String, String>,
    pub(crate) capacity: usize,
    /// Main answers with the renderer's id and its end of the queues, or a refusal.
    pub(crate) answer:
        oneshot::Sender<Result<(RendererId, RendererEnd, crate::router::LocalRoute), IpcError>>,
}

/// One end of an in-process connection, for code that is generic over [`Transport`].
/// (`Main::connect_in_process` is the shortcut that needs no handshake.)
///
/// # Examples
///
/// ```
/// use ipc_runtime::{InProcess, Main, Renderer, RendererOptions};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// let (main_side, renderer_side) = InProcess::pair();
/// let accepted = tokio::spawn({
///     let main = main.clone();
///     async move { main.accept(main_side).await }
/// });
/// let renderer = Renderer::connect(renderer_side, RendererOptions::new("local")).await.unwrap();
/// assert_eq!(accepted.await.unwrap().unwrap(), renderer.id());
/// # }
/// ```
pub struct InProcess {
    pub(crate) side: Side,
}

pub(crate) enum Side {
    Main(oneshot::Receiver<LocalHello>),
    Renderer(oneshot::Sender<LocalHello>),
}

impl InProcess {
    /// A connected pair: `(main's end, the renderer's end)`.
    pub fn pair() -> (InProcess, InProcess) {
        let (tx, rx) = oneshot::channel();
        (
            InProcess {
                side: Side::Main(rx),
            },
            InProcess {
                side: Side::Renderer(tx),
            },
        )
    }
}

impl fmt::Debug for InProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Main(_) => "main",
            Side::Renderer(_) => "renderer",
        };
        f.debug_struct("InProcess").field("side", &side).finish()
    }
}

impl Transport for InProcess {
    fn into_link(self) -> Link {
        Link(LinkKind::InProcess(self))
    }
}
