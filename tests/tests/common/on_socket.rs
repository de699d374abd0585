//! `main` serving the conformance contract on a Unix socket of its own, with renderers of this
//! process connected to it (main's tables and the objects can be watched from the test).

use std::path::PathBuf;
use std::sync::Arc;

use ipc_runtime::{Codec, Main, Registration, Renderer, RendererOptions, UnixListenerHandle};
use ipc_tests::{Conformance, ConformanceBackend, ConformanceState};

use super::{socket_path, within};

/// `main` serving the conformance contract on a Unix socket of its own (`name` in its path);
/// the socket's file goes with it.
pub struct OnSocket {
    pub state: Arc<ConformanceState>,
    path: PathBuf,
    _registration: Registration,
    _listener: UnixListenerHandle,
}

impl OnSocket {
    pub fn serve(main: &Main, name: &str) -> Self {
        let (state, registration) = ConformanceBackend::serve(main).unwrap();
        let path = socket_path(name);
        let listener = main.listen_unix(&path).unwrap();
        OnSocket {
            state,
            path,
            _registration: registration,
            _listener: listener,
        }
    }

    /// A renderer of this process connected to it, labelled `label`.
    pub async fn connect(&self, label: &str) -> Renderer {
        connect(&self.path, label).await
    }
}

impl Drop for OnSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub async fn connect(path: &std::path::Path, label: &str) -> Renderer {
    let options = RendererOptions::new(label)
        .contract(Conformance::schema())
        .codec(Codec::Binary);
    within("the handshake", Renderer::connect_unix(path, options))
        .await
        .unwrap()
}
