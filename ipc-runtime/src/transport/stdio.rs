//! Child-process stdio: `Main::spawn_renderer` on the main side, `Stdio` in the child.

use std::fmt;
use std::process::ExitStatus;

use tokio::process::{Child, Command};

use super::{ByteStream, Link, Transport};
use crate::caller::RendererId;
use crate::error::IpcError;
use crate::router::Main;

/// This process's stdin and stdout as a transport (the renderer side of
/// [`Main::spawn_renderer`]).
///
/// # Examples
///
/// ```no_run
/// use ipc_runtime::{Renderer, RendererOptions, Stdio};
///
/// # async fn run() -> Result<(), ipc_runtime::IpcError> {
/// let renderer = Renderer::connect(Stdio::current(), RendererOptions::new("worker")).await?;
/// # let _ = renderer; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdio {
    _private: (),
}

impl Stdio {
    /// The current process's stdin (frames from main) and stdout (frames to main).
    pub fn current() -> Self {
        Stdio { _private: () }
    }
}

impl Transport for Stdio {
    fn into_link(self) -> Link {
        match pipes() {
            Ok((reader, writer)) => ByteStream::new(reader, writer)
                .peer("stdio pipes")
                .into_link(),
            // Not pipes (a terminal, a file): Tokio's blocking stdio works, but a read pending at
            // exit keeps the runtime from shutting down until stdin delivers something.
            Err(_) => ByteStream::new(tokio::io::stdin(), tokio::io::stdout())
                .peer("stdio")
                .into_link(),
        }
    }
}

/// Stdin and stdout as non-blocking pipes driven by the reactor, so no thread is parked in a
/// blocking `read` when the process wants to exit. (This also puts the pipes in non-blocking
/// mode: nothing else should write to stdout, which carries the protocol anyway.)
fn pipes() -> std::io::Result<(
    tokio::net::unix::pipe::Receiver,
    tokio::net::unix::pipe::Sender,
)> {
    use std::os::fd::AsFd;
    let stdin = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    let stdout = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    let reader = tokio::net::unix::pipe::Receiver::from_file(stdin)?;
    let writer = tokio::net::unix::pipe::Sender::from_file(stdout)?;
    Ok((reader, writer))
}

/// A renderer process main started; it is killed when this handle is dropped.
pub struct ChildRenderer {
    id: RendererId,
    child: Child,
}

impl ChildRenderer {
    /// The renderer's id on main.
    pub fn id(&self) -> RendererId {
        self.id
    }

    /// The OS process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for the process to exit.
    ///
    /// # Errors
    ///
    /// The I/O error of waiting.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Kills the process and waits for it.
    ///
    /// # Errors
    ///
    /// The I/O error of killing.
    pub async fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill().await
    }
}

impl fmt::Debug for ChildRenderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildRenderer")
            .field("id", &self.id)
            .field("pid", &self.child.id())
            .finish()
    }
}

impl Main {
    /// Starts `command` as a renderer process and connects to it over its stdin and stdout
    /// (stderr is inherited, for its logs). The child connects with
    /// [`Renderer::connect_stdio`](crate::Renderer::connect_stdio).
    ///
    /// # Errors
    ///
    /// [`IpcError::Disconnected`] when the process cannot be started, or the handshake error.
    pub async fn spawn_renderer(&self, mut command: Command) -> Result<ChildRenderer, IpcError> {
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            IpcError::disconnected(format!("cannot start the renderer process: {e}"))
        })?;
        let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
            return Err(IpcError::disconnected(
                "the renderer process has no stdio pipes",
            ));
        };
        let peer = format!("child process {}", child.id().unwrap_or_default());
        let id = self
            .accept(ByteStream::new(stdout, stdin).peer(peer))
            .await?;
        Ok(ChildRenderer { id, child })
    }
}
