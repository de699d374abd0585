//! Renderer processes main starts: `Main::spawn_renderer` connects over the child's stdin and
//! stdout (the child uses `Stdio`).

use std::fmt;
use std::process::ExitStatus;

use tokio::process::{Child, Command};

use crate::caller::Peer;
use crate::caller::RendererId;
use crate::error::IpcError;
use crate::main::Main;
use crate::transport::ByteStream;

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
        let pid = child.id();
        let peer = format!("child process {}", pid.unwrap_or_default());
        // The child has not been waited for, so its pid cannot have been reused yet.
        let vouched = pid.map_or(Peer::Unknown, |pid| Peer::Child { pid });
        let id = self
            .accept(ByteStream::new(stdout, stdin).peer(peer).vouched(vouched))
            .await?;
        Ok(ChildRenderer { id, child })
    }
}
