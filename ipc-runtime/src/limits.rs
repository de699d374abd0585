//! Defaults and limits both sides share (main's `MainBuilder` and a renderer's
//! `RendererOptions` start from these), in one place below both.

use std::time::Duration;

/// Default largest frame: 4 MiB.
pub const DEFAULT_MAX_FRAME: usize = 4 * 1024 * 1024;

/// Default largest message: 64 MiB. Messages longer than a frame travel in chunks
/// (`docs/PROTOCOL.md` §1.1).
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// How long a connecting peer has to complete the handshake by default.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call may take when neither the call nor the renderer sets a deadline.
pub const DEFAULT_CALL_TIMEOUT: Duration =
    Duration::from_millis(ipc_schema::DEFAULT_CALL_TIMEOUT_MS);

/// How long a frame (or a chunked message) may take once begun, by default.
pub(crate) const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(30);

/// How long main waits in silence before it pings a renderer, by default.
pub(crate) const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);

/// How long main waits for any sign of life after a ping, by default.
pub(crate) const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes main holds at most, over all connections, for frames and messages not yet complete.
pub(crate) const DEFAULT_MAX_PARTIAL_BYTES: usize = 256 * 1024 * 1024;

/// The default connection limit: three quarters of the process's open-file limit (the rest is
/// headroom for everything else the process opens), between 16 and 4096.
pub(crate) fn default_max_connections() -> usize {
    let open_files = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .map_or(4096, |limit| usize::try_from(limit).unwrap_or(usize::MAX));
    (open_files / 4 * 3).clamp(16, 4096)
}

/// Messages one side may send on a port before the receiver grants more, by default (the
/// receiver queues at most this many per port).
pub const DEFAULT_PORT_WINDOW: usize = 256;

/// Ports open at once on one connection, by default.
pub const DEFAULT_MAX_PORTS: usize = 1024;

/// Messages buffered per direction per connection, by default.
pub(crate) const DEFAULT_QUEUE_CAPACITY: usize = 1024;

/// Calls one renderer may have in flight on main, by default.
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// Sends per renderer whose listeners may still be running, by default.
pub(crate) const DEFAULT_MAX_SENDS_RUNNING: usize = 256;

/// Events buffered per subscription in a renderer, by default.
pub(crate) const DEFAULT_EVENT_BUFFER: usize = 256;

/// The reason main gives a renderer whose connection it closes (`Main::disconnect`,
/// `Main::shutdown`); an in-process renderer reports it without waiting for main's goodbye.
pub(crate) const CLOSED_BY_MAIN: &str = "closed by main";
