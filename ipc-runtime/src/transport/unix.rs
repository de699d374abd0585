//! Unix domain sockets as a transport (main listens with `Main::listen_unix`, a renderer
//! connects with `Renderer::connect_unix`).

use super::{ByteStream, Link, Transport};
use crate::caller::Peer;

impl Transport for tokio::net::UnixStream {
    fn into_link(self) -> Link {
        // Asked now, while the peer is connected: the kernel's record of who connected.
        let vouched = match self.peer_cred() {
            Ok(credentials) => Peer::Unix {
                pid: credentials.pid().and_then(|pid| u32::try_from(pid).ok()),
                uid: credentials.uid(),
                gid: credentials.gid(),
            },
            Err(_) => Peer::Unknown,
        };
        let peer = self
            .peer_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "unix socket".into());
        let (reader, writer) = self.into_split();
        ByteStream::new(reader, writer)
            .peer(peer)
            .vouched(vouched)
            .into_link()
    }
}
