//! Unix domain sockets as a transport (main listens with `Main::listen_unix`, a renderer
//! connects with `Renderer::connect_unix`).

use super::{ByteStream, Link, Transport};

impl Transport for tokio::net::UnixStream {
    fn into_link(self) -> Link {
        let peer = self
            .peer_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "unix socket".into());
        let (reader, writer) = self.into_split();
        ByteStream::new(reader, writer).peer(peer).into_link()
    }
}
