//! This process's stdin and stdout as a transport (a renderer that main started as a child
//! process; main's side is `Main::spawn_renderer`).

use super::{ByteStream, Link, Transport};

/// This process's stdin and stdout as a transport (the renderer side of
/// [`Main::spawn_renderer`](crate::Main::spawn_renderer)).
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
        // Node's `child_process` (and so Electron's) gives a child socketpairs, not pipes, for
        // `'pipe'` stdio: driven as sockets they cost what a socket costs.
        if let Ok((reader, writer)) = sockets() {
            return ByteStream::new(reader, writer)
                .peer("stdio sockets")
                .into_link();
        }
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

/// Stdin and stdout as non-blocking Unix sockets driven by the reactor, when both are sockets.
fn sockets() -> std::io::Result<(tokio::net::UnixStream, tokio::net::UnixStream)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let socket = |fd: std::os::fd::BorrowedFd<'_>| -> std::io::Result<tokio::net::UnixStream> {
        let fd = fd.try_clone_to_owned()?;
        let file = std::fs::File::from(fd);
        if !file.metadata()?.file_type().is_socket() {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        let stream = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(file));
        stream.set_nonblocking(true)?;
        tokio::net::UnixStream::from_std(stream)
    };
    let reader = socket(std::io::stdin().as_fd())?;
    let writer = socket(std::io::stdout().as_fd())?;
    Ok((reader, writer))
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
