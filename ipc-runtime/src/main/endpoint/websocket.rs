//! The WebSocket endpoint for web pages: `Main::listen_websocket`, loopback by default, with a
//! per-launch token and an `Origin` allowlist checked at the upgrade (the medium itself is
//! `transport::websocket`).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use super::ACCEPT_RETRY;
use crate::caller::Peer;
use crate::error::IpcError;
use crate::main::Main;
use crate::transport::Transport;
use crate::transport::frames::FrameTransport;
use crate::transport::websocket;
use crate::util::slots::{Slot, Slots};

/// Connections over the limit that are told so (HTTP 503) at once; past this many, the others are
/// closed without a word (a crowd cannot make main hold descriptors to refuse it politely).
const REFUSALS_AT_ONCE: usize = 64;

/// The most of an upgrade request main reads before it answers 503.
const REFUSAL_READ_LIMIT: usize = 8 * 1024;

/// Answers an upgrade request main has no room for with HTTP 503, the limit in its body. The
/// request is read first (within `timeout` and a few KiB), so the answer is not lost to a reset.
async fn refuse_busy(mut stream: TcpStream, error: IpcError, timeout: Duration, _refusal: Slot) {
    let answer = async {
        let mut request = Vec::with_capacity(1024);
        let mut buffer = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < REFUSAL_READ_LIMIT {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buffer[..n]),
            }
        }
        let body = error.to_string();
        let response = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    };
    let _ = tokio::time::timeout(timeout, answer).await;
}

/// Where and for whom [`Main::listen_websocket`] listens.
///
/// # Examples
///
/// ```
/// use ipc_runtime::WebSocketOptions;
///
/// let options = WebSocketOptions::new().allow_origin("http://127.0.0.1:8080");
/// assert_eq!(options.token().len(), 32);
/// ```
#[derive(Clone)]
pub struct WebSocketOptions {
    addr: SocketAddr,
    path: String,
    token: String,
    allowed_origins: Vec<String>,
    allow_missing_origin: bool,
    allow_remote: bool,
}

impl Default for WebSocketOptions {
    fn default() -> Self {
        WebSocketOptions::new()
    }
}

impl WebSocketOptions {
    /// Loopback (`127.0.0.1`) on a free port, path `/ipc`, a fresh random token, and no origin
    /// allowed yet (add the page's origin with [`WebSocketOptions::allow_origin`]).
    pub fn new() -> Self {
        WebSocketOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            path: "/ipc".into(),
            token: random_token(),
            allowed_origins: Vec::new(),
            allow_missing_origin: false,
            allow_remote: false,
        }
    }

    /// The address to bind (default `127.0.0.1:0`). Anything but loopback exposes main to the
    /// network, where the token and the origin check are all that protect it:
    /// [`Main::listen_websocket`] refuses such an address unless
    /// [`WebSocketOptions::allow_remote`] says so.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Allows binding an address other than loopback (off by default).
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Main, WebSocketOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let everywhere = WebSocketOptions::new().bind("0.0.0.0:0".parse().unwrap());
    /// let refused = Main::new().listen_websocket(everywhere.clone()).await.unwrap_err();
    /// assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied);
    /// # let _ = everywhere.allow_remote(true);
    /// # }
    /// ```
    pub fn allow_remote(mut self, allow: bool) -> Self {
        self.allow_remote = allow;
        self
    }

    /// The URL path of the endpoint (default `/ipc`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Uses this token instead of a random one.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The token clients must present (`?token=` in the URL).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Accepts upgrades whose `Origin` header is exactly `origin` (for example
    /// `http://127.0.0.1:8080`).
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// Also accepts upgrades without an `Origin` header (non-browser clients: browsers always
    /// send one). Off by default.
    pub fn allow_missing_origin(mut self, allow: bool) -> Self {
        self.allow_missing_origin = allow;
        self
    }

    /// Why the upgrade request must be refused, if it must.
    fn refusal(&self, request: &Request) -> Option<&'static str> {
        if request.uri().path() != self.path {
            return Some("unknown path");
        }
        let token = request
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="));
        match token {
            Some(given) if constant_time_eq(given.as_bytes(), self.token.as_bytes()) => {}
            _ => return Some("missing or wrong token"),
        }
        match request.headers().get("origin").map(|o| o.to_str()) {
            None if self.allow_missing_origin => None,
            None => Some("missing Origin"),
            Some(Ok(origin)) if self.allowed_origins.iter().any(|o| o == origin) => None,
            Some(_) => Some("origin not allowed"),
        }
    }
}

impl fmt::Debug for WebSocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketOptions")
            .field("addr", &self.addr)
            .field("path", &self.path)
            .field("token", &"<hidden>")
            .field("allowed_origins", &self.allowed_origins)
            .field("allow_missing_origin", &self.allow_missing_origin)
            .field("allow_remote", &self.allow_remote)
            .finish()
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // Without OS randomness there is no safe token; refuse to run rather than guess.
    getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A listening WebSocket endpoint; dropping it stops accepting (open connections stay).
pub struct WebSocketListener {
    addr: SocketAddr,
    options: Arc<WebSocketOptions>,
    task: JoinHandle<()>,
}

impl WebSocketListener {
    /// The bound address (with the actual port).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token clients must present.
    pub fn token(&self) -> &str {
        &self.options.token
    }

    /// The full URL a page connects to, token included.
    pub fn url(&self) -> String {
        format!(
            "ws://{}{}?token={}",
            self.addr, self.options.path, self.options.token
        )
    }
}

impl Drop for WebSocketListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for WebSocketListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketListener")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Main {
    /// Listens for web pages on a WebSocket. Each upgrade is checked before it is accepted:
    /// the path, the token (`?token=`) and the `Origin` header (against the allowlist); a
    /// refused upgrade gets HTTP 403. Accepted connections then speak the wire protocol (the
    /// generated `client.mjs` uses the msgpack codec) and are served like any renderer, with the checked origin in
    /// [`Caller::origin`](crate::Caller::origin).
    ///
    /// A client has the handshake deadline
    /// ([`MainBuilder::handshake_timeout`](crate::MainBuilder::handshake_timeout)) for its
    /// upgrade request and its hello together. Past the connection limits
    /// ([`MainBuilder::max_connections_per_endpoint`](crate::MainBuilder::max_connections_per_endpoint),
    /// [`MainBuilder::max_connections`](crate::MainBuilder::max_connections)) an upgrade is
    /// answered with HTTP 503 before anything else is read.
    ///
    /// # Errors
    ///
    /// [`std::io::ErrorKind::PermissionDenied`] for an address that is not loopback without
    /// [`WebSocketOptions::allow_remote`]; the I/O error of binding.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Codec, Main, Renderer, RendererOptions, WebSocketOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let listener = main
    ///     .listen_websocket(WebSocketOptions::new().allow_origin("http://localhost:3000"))
    ///     .await
    ///     .unwrap();
    /// let renderer = Renderer::connect_websocket(
    ///     &listener.url(),
    ///     Some("http://localhost:3000"),
    ///     RendererOptions::new("page").codec(Codec::Json),
    /// )
    /// .await
    /// .unwrap();
    /// assert_eq!(main.renderer(renderer.id()).unwrap().origin(), Some("http://localhost:3000"));
    /// # }
    /// ```
    pub async fn listen_websocket(
        &self,
        options: WebSocketOptions,
    ) -> std::io::Result<WebSocketListener> {
        if !options.addr.ip().is_loopback() && !options.allow_remote {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "refusing to listen on {}: not a loopback address (call \
                     `WebSocketOptions::allow_remote(true)` to expose main to the network)",
                    options.addr
                ),
            ));
        }
        let listener = TcpListener::bind(options.addr).await?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "WebSocket endpoint is not on loopback");
        }
        let options = Arc::new(options);
        let main = self.clone();
        let shared = options.clone();
        let endpoint = Slots::new(main.inner.config.max_connections_per_endpoint());
        let refusals = Slots::new(REFUSALS_AT_ONCE);
        let task = tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "WebSocket accept failed");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                        continue;
                    }
                };
                let main = main.clone();
                let slots = match main.connection_slots(Some(&endpoint)) {
                    Ok(slots) => slots,
                    Err(error) => {
                        tracing::warn!(%peer, %error, "WebSocket connection refused");
                        // Past the refusals under way, the connection is just closed.
                        if let Some(refusal) = refusals.try_take() {
                            let timeout = main.inner.config.handshake_timeout;
                            tokio::spawn(refuse_busy(stream, error, timeout, refusal));
                        }
                        continue;
                    }
                };
                let options = shared.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let mut origin = None;
                    // The callback's signature is tungstenite's (`Callback`), large error included.
                    #[allow(clippy::result_large_err)]
                    let check = |request: &Request,
                                 response: Response|
                     -> Result<Response, ErrorResponse> {
                        if let Some(reason) = options.refusal(request) {
                            tracing::info!(%peer, reason, "WebSocket upgrade refused");
                            let mut refusal =
                                ErrorResponse::new(Some(format!("forbidden: {reason}")));
                            *refusal.status_mut() = StatusCode::FORBIDDEN;
                            return Err(refusal);
                        }
                        origin = request
                            .headers()
                            .get("origin")
                            .and_then(|o| o.to_str().ok())
                            .map(str::to_string);
                        Ok(response)
                    };
                    let config = &main.inner.config;
                    // A client that connects and never finishes its upgrade request holds its
                    // slot only until the handshake deadline.
                    let upgrade = tokio_tungstenite::accept_hdr_async_with_config(
                        stream,
                        check,
                        Some(websocket::config(config.max_frame_size)),
                    );
                    let ws = match tokio::time::timeout(config.handshake_timeout, upgrade).await {
                        Ok(Ok(ws)) => ws,
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "WebSocket upgrade failed");
                            return;
                        }
                        Err(_) => {
                            tracing::info!(%peer, "no WebSocket upgrade within the handshake deadline");
                            return;
                        }
                    };
                    let mut link = websocket::frame_link(
                        ws,
                        format!("websocket {peer}"),
                        config.max_message_size,
                        main.inner.held.clone(),
                        config.frame_timeout,
                    );
                    link.vouched = Peer::WebSocket {
                        address: peer,
                        origin: origin.clone(),
                    };
                    link.origin = origin;
                    let link = FrameTransport(link).into_link().0;
                    if let Err(error) = main.accept_admitted(link, false, slots).await {
                        tracing::info!(%peer, %error, "WebSocket renderer refused");
                    }
                });
            }
        });
        Ok(WebSocketListener {
            addr,
            options,
            task,
        })
    }
}
