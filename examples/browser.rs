//! Browser: a Rust main that serves a web page and the WebSocket endpoint it talks to.
//!
//! `cargo run --example browser` prints a URL; open it in a browser. The page imports the
//! generated browser client (`client.mjs`, produced from `Todos::schema()` at start-up, so it can
//! never be stale), connects with the per-launch token, lists, adds and toggles todos through the
//! typed API, and receives `changed` events. Main announces the time every few seconds.
//!
//! The WebSocket endpoint is on loopback, checks the token and accepts only the page's own
//! origin; anything else is refused with HTTP 403.
//!
//! Options: `--port <n>` (default: a free port), `--exit-after <seconds>`.

mod todos;

use std::sync::Arc;
use std::time::Duration;

use ipc_runtime::schema::js::Bindings;
use ipc_runtime::{Main, Target, WebSocketOptions};
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
    let origin = format!("http://{}", http.local_addr()?);
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
    let site = Arc::new(Site { page, client });

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

    let serve = async move {
        loop {
            let (stream, _) = http.accept().await?;
            let site = site.clone();
            tokio::spawn(async move {
                if let Err(error) = site.respond(stream).await {
                    eprintln!("http: {error}");
                }
            });
        }
        #[allow(unreachable_code)]
        Ok::<(), BoxError>(())
    };
    match exit_after {
        Some(seconds) => {
            tokio::select! {
                result = serve => result?,
                () = tokio::time::sleep(Duration::from_secs(seconds)) => {}
            }
        }
        None => {
            tokio::select! {
                result = serve => result?,
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

/// The two files the page needs; a deliberately tiny HTTP/1.1 responder (GET only).
struct Site {
    page: String,
    client: String,
}

impl Site {
    async fn respond(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                return Ok(());
            }
            request.extend_from_slice(&buffer[..n]);
        }
        let head = String::from_utf8_lossy(&request);
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
}
