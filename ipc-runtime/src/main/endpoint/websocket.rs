//! The WebSocket endpoint for web pages: `Main::listen_websocket`, loopback by default, with a
//! per-launch token and an `Origin` allowlist checked at the upgrade (the medium itself is
//! `transport::websocket`).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::main::Main;
use crate::transport::frames::FrameTransport;
use crate::transport::websocket;

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
        }
    }

    /// The address to bind. Anything but loopback exposes main to the network: the token and
    /// the origin check are then all that protect it.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
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
    /// refused upgrade gets HTTP 403. Accepted connections then speak the wire protocol (a page
    /// uses the JSON codec) and are served like any renderer, with the checked origin in
    /// [`Caller::origin`](crate::Caller::origin).
    ///
    /// # Errors
    ///
    /// The I/O error of binding.
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
        let listener = TcpListener::bind(options.addr).await?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "WebSocket endpoint is not on loopback");
        }
        let options = Arc::new(options);
        let main = self.clone();
        let shared = options.clone();
        let task = tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "WebSocket accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let main = main.clone();
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
                    let config = websocket::config(main.inner.config.max_frame_size);
                    let ws = match tokio_tungstenite::accept_hdr_async_with_config(
                        stream,
                        check,
                        Some(config),
                    )
                    .await
                    {
                        Ok(ws) => ws,
                        Err(error) => {
                            tracing::debug!(%peer, %error, "WebSocket upgrade failed");
                            return;
                        }
                    };
                    let mut link = websocket::frame_link(
                        ws,
                        format!("websocket {peer}"),
                        main.inner.config.max_message_size,
                        main.inner.held.clone(),
                    );
                    link.origin = origin;
                    if let Err(error) = main.accept(FrameTransport(link)).await {
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
