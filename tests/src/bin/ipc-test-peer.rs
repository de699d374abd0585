//! The other process of the conformance suite (`tests/conformance.rs`).
//!
//! - `main-stdio`: serves the `Conformance` contract as main over this process's stdin and
//!   stdout (one renderer).
//! - `main-unix <path>`: serves it as main on a Unix socket at `path` (any number of renderers);
//!   prints `listening` on stdout once the socket is bound.
//! - `main-websocket`: serves it as main on a loopback WebSocket endpoint that accepts the
//!   origin `ipc_tests::TEST_ORIGIN`; prints the endpoint's URL (token included) on stdout.
//! - `main-low-nofile <path> <open files> <max connections> <handshake ms>`: `main-unix` in a
//!   process whose open-file limit is lowered to `<open files>` first, with the given connection
//!   limit (`default` for main's own) and handshake deadline; prints `listening <max connections
//!   main uses>`.
//! - `renderer-stdio <label> <scenario> <codec>`: a renderer over stdin and stdout (started by
//!   `Main::spawn_renderer`) that plays a scenario (`ipc_tests::Scenario`).
//! - `renderer-unix <path> <label> <scenario> <codec>`: the same over a Unix socket.
//! - `renderer-websocket <url> <label> <scenario> <codec>`: the same over a WebSocket.
//!
//! Logs go to stderr. Main modes serve until killed, renderer modes exit when their scenario
//! ends, and every mode exits when the process that started it goes away.

#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use ipc_runtime::{Codec, Main, Renderer, RendererOptions, Stdio, WebSocketOptions};
use ipc_tests::{Conformance, ConformanceBackend, Scenario, TEST_ORIGIN, run_scenario};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    // Handler panics are part of the suite: report them in one line.
    std::panic::set_hook(Box::new(|info| eprintln!("ipc-test-peer: {info}")));
    exit_with_parent();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args[..] {
        ["main-stdio"] => main_stdio().await,
        ["main-unix", path] => main_unix(path).await,
        ["main-websocket"] => main_websocket().await,
        [
            "main-low-nofile",
            path,
            open_files,
            max_connections,
            handshake_ms,
        ] => main_low_nofile(path, open_files, max_connections, handshake_ms).await,
        ["renderer-stdio", label, scenario, codec] => {
            renderer(Via::Stdio, label, scenario, codec).await
        }
        ["renderer-unix", path, label, scenario, codec] => {
            renderer(Via::Unix(path), label, scenario, codec).await
        }
        ["renderer-websocket", url, label, scenario, codec] => {
            renderer(Via::WebSocket(url), label, scenario, codec).await
        }
        _ => Err(format!("unknown arguments {args:?}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ipc-test-peer {args:?}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Exits when the parent process does (so a crashed test run leaves no peers behind).
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(0);
            }
        }
    });
}

fn start_main() -> Result<Main, String> {
    let main = Main::new();
    // The registration stays in place for the life of `main`.
    let _ = ConformanceBackend::serve(&main).map_err(|e| e.to_string())?;
    Ok(main)
}

async fn main_stdio() -> Result<(), String> {
    let main = start_main()?;
    if let Err(error) = main.accept(Stdio::current()).await {
        eprintln!("ipc-test-peer: main-stdio refused its renderer: {error}");
    }
    // Serve until killed (or until the parent goes away): exiting on our own could cut off a
    // goodbye or a refusal before it is written.
    std::future::pending::<()>().await;
    Ok(())
}

async fn main_unix(path: &str) -> Result<(), String> {
    let main = start_main()?;
    let _ = std::fs::remove_file(path);
    let _listener = main.listen_unix(path).map_err(|e| e.to_string())?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening").map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
    }
    // Serve until killed (or until the parent goes away).
    std::future::pending::<()>().await;
    Ok(())
}

async fn main_low_nofile(
    path: &str,
    open_files: &str,
    max_connections: &str,
    handshake_ms: &str,
) -> Result<(), String> {
    let open_files: u64 = open_files.parse().map_err(|e| format!("open files: {e}"))?;
    let handshake_ms: u64 = handshake_ms
        .parse()
        .map_err(|e| format!("handshake: {e}"))?;
    let limit = rustix::process::Rlimit {
        current: Some(open_files),
        maximum: rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum,
    };
    rustix::process::setrlimit(rustix::process::Resource::Nofile, limit)
        .map_err(|e| format!("setrlimit: {e}"))?;
    let mut builder = Main::builder().handshake_timeout(Duration::from_millis(handshake_ms));
    if max_connections != "default" {
        let limit = max_connections
            .parse()
            .map_err(|e| format!("max connections: {e}"))?;
        builder = builder.max_connections(limit);
    }
    let main = builder.build();
    let _ = ConformanceBackend::serve(&main).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(path);
    let _listener = main.listen_unix(path).map_err(|e| e.to_string())?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening {}", main.max_connections()).map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
    }
    // Serve until killed (or until the parent goes away).
    std::future::pending::<()>().await;
    Ok(())
}

async fn main_websocket() -> Result<(), String> {
    let main = start_main()?;
    let options = WebSocketOptions::new().allow_origin(TEST_ORIGIN);
    let listener = main
        .listen_websocket(options)
        .await
        .map_err(|e| e.to_string())?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", listener.url()).map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
    }
    // Serve until killed (or until the parent goes away).
    std::future::pending::<()>().await;
    Ok(())
}

/// How a renderer peer reaches main.
enum Via<'a> {
    Stdio,
    Unix(&'a str),
    WebSocket(&'a str),
}

async fn renderer(via: Via<'_>, label: &str, scenario: &str, codec: &str) -> Result<(), String> {
    let scenario = Scenario::from_name(scenario).ok_or(format!("unknown scenario {scenario}"))?;
    let codec = Codec::from_name(codec).ok_or(format!("unknown codec {codec}"))?;
    let options = RendererOptions::new(label)
        .contract(Conformance::schema())
        .codec(codec);
    let renderer = match via {
        Via::Stdio => Renderer::connect_stdio(options).await,
        Via::Unix(path) => Renderer::connect_unix(path, options).await,
        Via::WebSocket(url) => Renderer::connect_websocket(url, Some(TEST_ORIGIN), options).await,
    }
    .map_err(|e| format!("cannot connect: {e}"))?;
    run_scenario(renderer, scenario, || std::process::exit(0)).await
}
