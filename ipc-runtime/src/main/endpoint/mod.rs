//! Where renderers come from: a Unix socket main listens on, child processes main starts, and
//! the WebSocket endpoint for web pages. Each hands its connections to `Main::accept`.

mod child;
mod unix;
mod websocket;

pub use child::ChildRenderer;
pub use unix::UnixListenerHandle;
pub use websocket::{WebSocketListener, WebSocketOptions};

/// How long a listener waits after a failed `accept` (out of descriptors, most likely) before it
/// tries again.
const ACCEPT_RETRY: std::time::Duration = std::time::Duration::from_millis(50);
