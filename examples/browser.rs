//! Browser: a Rust main that serves a web page and the WebSocket endpoint it talks to.
//!
//! `cargo run --example browser` prints a URL; open it in a browser. The page imports the
//! generated browser client (`client.mjs`, produced from `Todos::schema()` at start-up, so it can
//! never be stale), connects with the per-launch token, lists, adds and toggles todos through the
//! typed API, and receives `changed` events. Main announces the time every few seconds, and asks
//! each page that connects a question (a request from main, answered by the page's
//! `handleConfirm`), then tells that page what it answered.
//!
//! The WebSocket endpoint is on loopback, checks the token and accepts only the page's own
//! origin; anything else is refused with HTTP 403.
//!
//! **What the token protects, and what it does not.** The token is in the page, so whoever can
//! read the page can connect. Other web pages cannot: the same-origin policy keeps them from
//! reading it, the endpoint refuses their `Origin`, and the page is served only to requests whose
//! `Host` is this server's own address (`127.0.0.1:<port>` or `localhost:<port>`; anything else
//! gets 421), so a DNS-rebinding page (evil.example resolved to 127.0.0.1) gets no token either.
//! Local processes can: any program on this machine can ask for the page over loopback with the
//! right `Host`, read the token and connect with whatever `Origin` it likes. Loopback is not a
//! boundary between local users or programs; an application that needs one should use a Unix
//! socket with file permissions, or the Electron bridge. See `examples/browser/README.md`.
//!
//! The HTTP server survives running out of file descriptors (`EMFILE`): a failed accept is
//! logged and retried after a short pause, never fatal.
//!
//! Options: `--port <n>` (default: a free port), `--exit-after <seconds>`.

mod todos;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use ipc_runtime::schema::js::Bindings;
use ipc_runtime::{CallError, IpcError, Main, RendererEvent, Target, WebSocketOptions};
use todos::{Backend, Stats, Todos};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<u64>())
            .transpose()
    };
    let port = option("--port")?.unwrap_or(0);
    let exit_after = option("--exit-after")?;

    let main = Main::new();
    let _ = Todos::handle(
        &main,
        Backend::new(Todos::events(&main), Arc::new(Stats::default()), true),
    )?;

    let http = TcpListener::bind(("127.0.0.1", u16::try_from(port)?)).await?;
    let address = http.local_addr()?;
    let origin = format!("http://{address}");
    let ws = main
        .listen_websocket(WebSocketOptions::new().allow_origin(origin.clone()))
        .await?;

    let client = Bindings::new(&[Todos::schema()])
        .api_key("todos")
        .generate()?
        .into_iter()
        .find(|file| file.path.ends_with("client.mjs"))
        .ok_or("the generators produced no client.mjs")?
        .contents;
    let page = include_str!("browser/index.html").replace("{{WS_URL}}", &ws.url());
    let site = Arc::new(Site {
        page,
        client,
        hosts: [
            format!("127.0.0.1:{}", address.port()),
            format!("localhost:{}", address.port()),
        ],
    });

    println!("browser example: open {origin}/");
    println!("PAGE={origin}/");
    println!("WS={}", ws.url());

    let announcer = main.clone();
    tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let message = format!("main has been up for {}s", started.elapsed().as_secs());
            Todos::events(&announcer).announce(Target::All, message);
        }
    });

    tokio::spawn(ask_each_page(main.clone()));

    let serve = serve(http, site);
    match exit_after {
        Some(seconds) => {
            tokio::select! {
                () = serve => {}
                () = tokio::time::sleep(Duration::from_secs(seconds)) => {}
            }
        }
        None => {
            tokio::select! {
                () = serve => {}
                result = tokio::signal::ctrl_c() => result?,
            }
        }
    }
    println!(
        "browser example: {} renderers were connected at exit",
        main.renderer_count()
    );
    Ok(())
}

/// The question main asks each page once it has connected.
const QUESTION: &str = "May main keep your todos after you leave?";

/// Asks every page that connects [`QUESTION`] and announces its answer to it. A page registers
/// its handler right after it connects; until then the request fails with `no_handler` and is
/// asked again a little later (for at most five seconds).
async fn ask_each_page(main: Main) {
    let mut renderers = main.renderer_events();
    while let Some(event) = renderers.next().await {
        let Ok(RendererEvent::Connected(caller)) = event else {
            continue;
        };
        let main = main.clone();
        tokio::spawn(async move {
            let page = Todos::renderer_client(&main, caller.renderer());
            for _ in 0..50 {
                let answer = page
                    .confirm(QUESTION.to_owned())
                    .timeout(Duration::from_secs(60))
                    .await;
                if let Err(CallError::Ipc(IpcError::NoHandler { .. })) = answer {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                let told = match &answer {
                    Ok(true) => "main asked and you said yes".to_owned(),
                    Ok(false) => "main asked and you said no".to_owned(),
                    Err(error) => format!("main asked and got no answer: {error}"),
                };
                println!("main: asked {}: {answer:?}", caller.label());
                Todos::events(&main).announce(Target::Renderer(caller.renderer()), told);
                return;
            }
        });
    }
}

/// How long a client may take to send its request head.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The pause after a failed accept (out of file descriptors, most likely) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts connections until the process ends. An accept error never ends it: `EMFILE` and
/// `ENFILE` (no file descriptor left) pass once connections close, `ECONNABORTED` concerns one
/// client only. Each is logged (once per run of failures) and followed by a short pause, so a
/// process out of descriptors does not spin.
async fn serve(http: TcpListener, site: Arc<Site>) {
    let mut failures = 0u64;
    loop {
        match http.accept().await {
            Ok((stream, _)) => {
                if failures > 0 {
                    eprintln!("http: accepting again after {failures} failed accepts");
                    failures = 0;
                }
                let site = site.clone();
                tokio::spawn(async move {
                    if let Err(error) = site.respond(stream).await {
                        eprintln!("http: {error}");
                    }
                });
            }
            Err(error) => {
                if failures == 0 {
                    eprintln!(
                        "http: accept failed: {error}; retrying every {} ms",
                        ACCEPT_BACKOFF.as_millis()
                    );
                }
                failures += 1;
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// The two files the page needs; a deliberately tiny HTTP/1.1 responder (GET only).
struct Site {
    page: String,
    client: String,
    /// The `Host` values this server answers to: its own address, by IP and as `localhost`.
    hosts: [String; 2],
}

impl Site {
    async fn respond(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        let read_head = async {
            while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
                let n = stream.read(&mut buffer).await?;
                if n == 0 {
                    return Ok(false);
                }
                request.extend_from_slice(&buffer[..n]);
            }
            Ok::<bool, std::io::Error>(true)
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, read_head).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) | Err(_) => return Ok(()),
            Ok(Err(error)) => return Err(error),
        }
        let head = String::from_utf8_lossy(&request);
        // Only requests addressed to this server by its own name get the page (and its token):
        // a DNS-rebinding page reaches this socket with its own name in `Host`.
        if !self.host_is_ours(&head) {
            let body = format!(
                "this server answers only to Host {} or {}\n",
                self.hosts[0], self.hosts[1]
            );
            let response = format!(
                "HTTP/1.1 421 Misdirected Request\r\ncontent-type: text/plain\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).await?;
            return stream.shutdown().await;
        }
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        let (status, kind, body) = match path {
            "/" | "/index.html" => ("200 OK", "text/html; charset=utf-8", self.page.as_str()),
            "/client.mjs" => (
                "200 OK",
                "text/javascript; charset=utf-8",
                self.client.as_str(),
            ),
            _ => ("404 Not Found", "text/plain", "not found"),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    }

    /// Whether the request head carries exactly one `Host` header, naming this server.
    fn host_is_ours(&self, head: &str) -> bool {
        let mut hosts = head
            .split("\r\n")
            .skip(1)
            .take_while(|line| !line.is_empty())
            .filter_map(|line| line.split_once(':'))
            .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
            .map(|(_, value)| value.trim());
        match (hosts.next(), hosts.next()) {
            (Some(host), None) => self
                .hosts
                .iter()
                .any(|ours| ours.eq_ignore_ascii_case(host)),
            _ => false,
        }
    }
}
