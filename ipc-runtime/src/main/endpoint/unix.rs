//! Unix domain sockets on main's side: `Main::listen_unix` accepts every connection as a
//! renderer.

use std::path::{Path, PathBuf};

use tokio::net::UnixListener;
use tokio::task::JoinHandle;

use crate::main::Main;

/// A listening Unix socket; every connection is accepted as a renderer. Dropping the handle
/// stops listening and removes the socket file (connected renderers stay connected).
#[derive(Debug)]
pub struct UnixListenerHandle {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl UnixListenerHandle {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for UnixListenerHandle {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Main {
    /// Listens on a Unix socket at `path` and accepts every connection as a renderer (each
    /// handshake runs on its own task, so a silent client delays nobody).
    ///
    /// # Errors
    ///
    /// The I/O error of binding (for example when `path` exists: remove a stale socket first).
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Main, Renderer, RendererOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = std::env::temp_dir().join(format!("ipc-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("main.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let main = Main::new();
    /// let listener = main.listen_unix(&path).unwrap();
    /// let renderer = Renderer::connect_unix(listener.path(), RendererOptions::new("r")).await.unwrap();
    /// assert!(!renderer.is_closed());
    /// # }
    /// ```
    pub fn listen_unix(&self, path: impl AsRef<Path>) -> std::io::Result<UnixListenerHandle> {
        let path = path.as_ref().to_path_buf();
        let listener = UnixListener::bind(&path)?;
        let main = self.clone();
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let main = main.clone();
                        tokio::spawn(async move {
                            if let Err(error) = main.accept(stream).await {
                                tracing::info!(%error, "unix socket connection refused");
                            }
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        });
        Ok(UnixListenerHandle { path, task })
    }
}
