//! Unix domain sockets on main's side: `Main::listen_unix` accepts every connection as a
//! renderer.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;
use tokio::task::JoinHandle;

use super::ACCEPT_RETRY;
use crate::main::Main;
use crate::main::accept::refuse_link;
use crate::transport::Transport;
use crate::util::slots::Slots;

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
    /// handshake runs on its own task, so a silent client delays nobody). Past
    /// [`MainBuilder::max_connections_per_endpoint`](crate::MainBuilder::max_connections_per_endpoint)
    /// or [`MainBuilder::max_connections`](crate::MainBuilder::max_connections), a connection
    /// is refused at once with [`IpcError::TooManyConnections`](crate::IpcError::TooManyConnections);
    /// when the process is out of descriptors the listener waits and goes on.
    ///
    /// The socket is made owner-only (mode `0600`): on Linux a process needs write permission
    /// on the socket file to connect, so only this user's processes (and root) can. Its
    /// directory must not let other users replace it: a directory writable by other users is
    /// refused unless it has the sticky bit (as `/tmp` does), and so is a directory owned by
    /// another user than this one or root. A private directory (`$XDG_RUNTIME_DIR`, or one made
    /// with mode `0700`) is the place for it.
    ///
    /// # Errors
    ///
    /// [`PermissionDenied`](std::io::ErrorKind::PermissionDenied) for a directory other users
    /// could replace the socket in (the message says which rule); otherwise the I/O error of
    /// binding (for example when `path` exists: remove a stale socket first) or of setting the
    /// mode.
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
        check_socket_directory(&path)?;
        let listener = UnixListener::bind(&path)?;
        // Created with the umask's mode; narrowed before the first accept. With the usual umask
        // (022) nobody else can connect in between either: connecting needs write permission.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let main = self.clone();
        let endpoint = Slots::new(main.inner.config.max_connections_per_endpoint());
        let task = tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of descriptors (EMFILE) or a connection that went away: the
                        // listener waits a moment (the pending one stays queued) and goes on.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                        continue;
                    }
                };
                let main = main.clone();
                let slots = main.connection_slots(Some(&endpoint));
                tokio::spawn(async move {
                    let link = stream.into_link().0;
                    let accepted = match slots {
                        Ok(slots) => main.accept_admitted(link, false, slots).await,
                        Err(error) => Err(refuse_link(&main, link, error).await),
                    };
                    if let Err(error) = accepted {
                        tracing::info!(%error, "unix socket connection refused");
                    }
                });
            }
        });
        Ok(UnixListenerHandle { path, task })
    }
}

/// Refuses a directory where another user could remove or replace the socket.
fn check_socket_directory(path: &Path) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::env::current_dir()?,
    };
    let metadata = std::fs::metadata(&directory)?;
    let mode = metadata.mode();
    let me = rustix::process::getuid().as_raw();
    let refuse = |rule: &str| {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "refusing to listen in {}: {rule}, so another user could replace the socket; \
                 use a directory only this user can write (for example $XDG_RUNTIME_DIR)",
                directory.display()
            ),
        )
    };
    if metadata.uid() != me && metadata.uid() != 0 {
        return Err(refuse(&format!("it belongs to user {}", metadata.uid())));
    }
    let writable_by_others = mode & 0o022 != 0;
    let sticky = mode & 0o1000 != 0;
    if writable_by_others && !sticky {
        return Err(refuse(&format!(
            "other users may write it (mode {:o}) and it has no sticky bit",
            mode & 0o7777
        )));
    }
    Ok(())
}
