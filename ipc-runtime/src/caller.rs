//! Who is calling: [`RendererId`] and [`Caller`].

use std::fmt;
use std::sync::Arc;

/// The id `Main` gave a connected renderer; unique for the lifetime of one `Main`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = ipc_runtime::Main::new();
/// let a = main.connect_in_process(ipc_runtime::RendererOptions::new("a"));
/// let b = main.connect_in_process(ipc_runtime::RendererOptions::new("b"));
/// assert_ne!(a.id(), b.id());
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RendererId(pub(crate) u64);

impl RendererId {
    /// The id as a number (for logs and for JavaScript peers).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RendererId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "renderer#{}", self.0)
    }
}

/// The identity of the renderer behind a call, handed to every handler.
///
/// `label` is what the renderer was registered with (a window name, a worker kind); `origin` and
/// `frame_url` are known for web renderers (from the page's frame) and `None` for Rust renderers.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = ipc_runtime::Main::new();
/// let renderer = main.connect_in_process(
///     ipc_runtime::RendererOptions::new("settings").origin("app://settings"),
/// );
/// let caller = main.renderer(renderer.id()).unwrap();
/// assert_eq!(caller.label(), "settings");
/// assert_eq!(caller.origin(), Some("app://settings"));
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    pub(crate) id: RendererId,
    pub(crate) label: Arc<str>,
    pub(crate) origin: Option<Arc<str>>,
    pub(crate) frame_url: Option<Arc<str>>,
}

impl Caller {
    /// The renderer's id (use it to send events back to this renderer only).
    pub fn renderer(&self) -> RendererId {
        self.id
    }

    /// The label the renderer connected with.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The web origin of the calling page, where known.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The URL of the calling frame, where known.
    pub fn frame_url(&self) -> Option<&str> {
        self.frame_url.as_deref()
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Caller");
        s.field("renderer", &self.id.0)
            .field("label", &&*self.label);
        if let Some(origin) = &self.origin {
            s.field("origin", &&**origin);
        }
        if let Some(url) = &self.frame_url {
            s.field("frame_url", &&**url);
        }
        s.finish()
    }
}
