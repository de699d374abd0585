//! Who is calling: [`RendererId`], [`Caller`], and what the system vouches for ([`Peer`]).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::access::{Grant, GrantCell};

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

/// What the operating system, or the endpoint that accepted the connection, vouches for about
/// a renderer: unlike [`Caller::label`], which the renderer says of itself, a renderer cannot
/// choose what it is here.
///
/// # Examples
///
/// ```
/// use ipc_runtime::{Main, Peer, RendererOptions};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// let renderer = main.connect_in_process(RendererOptions::new("settings"));
/// let caller = main.renderer(renderer.id()).unwrap();
/// assert_eq!(caller.peer(), &Peer::InProcess);
/// assert!(caller.peer().is_local_process());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// Connected inside this process ([`Main::connect_in_process`](crate::Main::connect_in_process)).
    InProcess,
    /// A process on a Unix socket, as the kernel reported it when it connected (`SO_PEERCRED`).
    Unix {
        /// Its process id (`None` where the kernel does not say).
        pid: Option<u32>,
        /// Its effective user id.
        uid: u32,
        /// Its effective group id.
        gid: u32,
    },
    /// A child process main spawned, talking on its stdin and stdout
    /// ([`Main::spawn_renderer`](crate::Main::spawn_renderer)).
    Child {
        /// The child's process id.
        pid: u32,
    },
    /// A WebSocket client (a web page): the address it connected from and the `Origin` its
    /// upgrade request carried, which the endpoint checked against its allowlist.
    WebSocket {
        /// The client's address (loopback unless the endpoint was opened to the network).
        address: SocketAddr,
        /// The checked `Origin` header (`None` where the endpoint allowed requests without one).
        origin: Option<String>,
    },
    /// A window behind a bridge (`bridge.js` in Electron's main process): the bridge's own
    /// connection is vouched for as above; the window id, frame URL and origin
    /// ([`Caller::origin`], [`Caller::frame_url`]) are what the bridge saw in Electron's
    /// `event.senderFrame`, which the page cannot choose.
    BridgeWindow {
        /// The bridge's own connection.
        bridge: Arc<Peer>,
        /// The window's id on the bridge (Electron's `webContents.id`).
        window: u64,
        /// Whether the last call came from the window's main frame rather than an iframe
        /// (`event.senderFrame` is `event.sender.mainFrame`); `None` from a bridge that does
        /// not say.
        main_frame: Option<bool>,
    },
    /// A transport that vouches for nothing ([`ByteStream`](crate::ByteStream) over a medium of
    /// the application's own, given to [`Main::accept`](crate::Main::accept)).
    Unknown,
}

impl Peer {
    /// Whether the renderer runs inside this process.
    pub fn is_local_process(&self) -> bool {
        matches!(self, Peer::InProcess)
    }

    /// The operating system's process id of the renderer, where one is vouched for (a Unix
    /// socket peer, a child, a window's bridge).
    pub fn pid(&self) -> Option<u32> {
        match self {
            Peer::Unix { pid, .. } => *pid,
            Peer::Child { pid } => Some(*pid),
            Peer::BridgeWindow { bridge, .. } => bridge.pid(),
            _ => None,
        }
    }

    /// The user id of a Unix socket peer (or of a window's bridge on one).
    pub fn uid(&self) -> Option<u32> {
        match self {
            Peer::Unix { uid, .. } => Some(*uid),
            Peer::BridgeWindow { bridge, .. } => bridge.uid(),
            _ => None,
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::InProcess => f.write_str("in process"),
            Peer::Unix {
                pid: Some(pid),
                uid,
                ..
            } => write!(f, "unix socket, pid {pid}, uid {uid}"),
            Peer::Unix { pid: None, uid, .. } => write!(f, "unix socket, uid {uid}"),
            Peer::Child { pid } => write!(f, "child process {pid}"),
            Peer::WebSocket {
                address,
                origin: Some(origin),
            } => write!(f, "websocket from {address}, origin {origin}"),
            Peer::WebSocket {
                address,
                origin: None,
            } => write!(f, "websocket from {address}, no origin"),
            Peer::BridgeWindow {
                bridge,
                window,
                main_frame,
            } => {
                let frame = match main_frame {
                    Some(true) => ", main frame",
                    Some(false) => ", a subframe",
                    None => "",
                };
                write!(f, "window {window}{frame} behind a bridge ({bridge})")
            }
            Peer::Unknown => f.write_str("unknown"),
        }
    }
}

/// The identity of the renderer behind a call, handed to every handler.
///
/// [`Caller::peer`] is what the system vouches for (a Unix socket's pid and uid, a child's pid,
/// a WebSocket's checked `Origin`, a bridge window's id). `label` is what the renderer said of
/// itself at connect time (a window name, a worker kind): a label, never proof. `origin` and
/// `frame_url` are known for web renderers (from the WebSocket upgrade, or from the page's frame
/// as a bridge saw it) and `None` for Rust renderers, except an in-process renderer that main
/// itself gave one (`RendererOptions::origin`).
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
    /// One allocation: every call clones its caller, and one counter is cheaper than five.
    pub(crate) inner: Arc<CallerInner>,
}

/// What a [`Caller`] shares with its clones.
#[derive(PartialEq, Eq)]
pub(crate) struct CallerInner {
    pub(crate) label: Box<str>,
    pub(crate) origin: Option<Box<str>>,
    pub(crate) frame_url: Option<Box<str>>,
    /// Shared with the windows of a bridge (their `Peer::BridgeWindow::bridge`).
    pub(crate) peer: Arc<Peer>,
    pub(crate) grant: GrantCell,
}

impl Caller {
    pub(crate) fn new(id: RendererId, inner: CallerInner) -> Self {
        Caller {
            id,
            inner: Arc::new(inner),
        }
    }

    /// A window behind a bridge as its main frame, which the bridge delivers events and
    /// requests to: its origin and URL are kept only if its last call came from the main frame
    /// (otherwise main does not know the main frame's page). The grant cell is the same. Any
    /// other caller as it is.
    pub(crate) fn as_main_frame_of_window(&self) -> Caller {
        let Peer::BridgeWindow {
            bridge,
            window,
            main_frame,
        } = self.peer()
        else {
            return self.clone();
        };
        let known = *main_frame == Some(true);
        Caller::new(
            self.id,
            CallerInner {
                label: self.inner.label.clone(),
                origin: self.inner.origin.clone().filter(|_| known),
                frame_url: self.inner.frame_url.clone().filter(|_| known),
                peer: Arc::new(Peer::BridgeWindow {
                    bridge: bridge.clone(),
                    window: *window,
                    main_frame: Some(true),
                }),
                grant: self.inner.grant.clone(),
            },
        )
    }

    /// The renderer's grant cell (shared with main's table).
    pub(crate) fn grant_cell(&self) -> &GrantCell {
        &self.inner.grant
    }
}

impl Caller {
    /// The renderer's id (use it to send events back to this renderer only).
    pub fn renderer(&self) -> RendererId {
        self.id
    }

    /// The label the renderer connected with: what it says of itself, not proof of anything
    /// (see [`Caller::peer`] for what is vouched for).
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// The web origin of the calling page, where known.
    pub fn origin(&self) -> Option<&str> {
        self.inner.origin.as_deref()
    }

    /// The URL of the calling frame, where known.
    pub fn frame_url(&self) -> Option<&str> {
        self.inner.frame_url.as_deref()
    }

    /// What the system vouches for about the renderer (its process, its checked origin).
    pub fn peer(&self) -> &Peer {
        &self.inner.peer
    }

    /// What main lets this renderer use now (see [`Grant`]; main changes it with
    /// [`Main::set_grant`](crate::Main::set_grant)).
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Grant, Main, RendererOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let renderer = main.connect_in_process(RendererOptions::new("settings"));
    /// main.grant(renderer.id(), "admin");
    /// let caller = main.renderer(renderer.id()).unwrap();
    /// assert!(caller.grant().has_capability("admin"));
    /// # }
    /// ```
    pub fn grant(&self) -> Grant {
        Grant::clone(&self.inner.grant.get())
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Caller");
        s.field("renderer", &self.id.0)
            .field("label", &self.label());
        if let Some(origin) = self.origin() {
            s.field("origin", &origin);
        }
        if let Some(url) = self.frame_url() {
            s.field("frame_url", &url);
        }
        s.field("peer", self.peer());
        s.field("grant", &self.inner.grant);
        s.finish()
    }
}
