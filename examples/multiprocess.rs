//! Multiprocess: main and several renderer processes, over real pipes and a real Unix socket.
//!
//! `cargo run --example multiprocess` starts main, which spawns renderer processes (this same
//! binary with `--renderer`): two talk over their stdin/stdout, one connects to a Unix socket
//! main listens on. Each renderer exercises every method kind (invoke, fallible invoke, send,
//! events), main broadcasts an announcement to all of them, one renderer cancels a slow call,
//! one tries a renderer built from another contract version, and main prints a summary.
//!
//! `cargo run --example multiprocess -- --listen /tmp/todos.sock` runs main until interrupted,
//! so an outside client can connect with the JSON codec (see docs/PROTOCOL.md).

mod todos;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use ipc_runtime::{CallError, IpcError, Main, Renderer, RendererOptions, Target};
use todos::{Backend, Stats, TodoError, Todos, TodosClient};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["--renderer", label] => renderer(label, None).await,
        ["--renderer", label, "--unix", path] => renderer(label, Some(path)).await,
        ["--listen", path] => listen(path).await,
        [] => demo().await,
        _ => {
            eprintln!("usage: multiprocess [--listen <socket-path>]");
            std::process::exit(2);
        }
    }
}

fn start_main(verbose: bool) -> Result<(Main, Arc<Stats>), BoxError> {
    // Handler panics are part of the demo; report them in one line.
    std::panic::set_hook(Box::new(|info| eprintln!("main: handler panicked: {info}")));
    let main = Main::new();
    let stats = Arc::new(Stats::default());
    let backend = Backend::new(Todos::events(&main), stats.clone(), verbose);
    // The registration stays in place for the life of `main`.
    let _ = Todos::handle(&main, backend)?;
    Ok((main, stats))
}

async fn demo() -> Result<(), BoxError> {
    let (main, stats) = start_main(false)?;
    let exe = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!("ipc-multiprocess-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let socket = dir.join("main.sock");
    let _ = std::fs::remove_file(&socket);
    let listener = main.listen_unix(&socket)?;
    println!(
        "main: contract {} listening on {}",
        Todos::contract_hash(),
        socket.display()
    );

    let mut children = Vec::new();
    for label in ["pipe-1", "pipe-2"] {
        let mut command = tokio::process::Command::new(&exe);
        command.args(["--renderer", label]);
        let child = main.spawn_renderer(command).await?;
        println!(
            "main: spawned {label} (pid {:?}) over stdio as {}",
            child.pid(),
            child.id()
        );
        children.push((label.to_string(), child_process(child)));
    }
    let mut command = tokio::process::Command::new(&exe);
    command
        .args(["--renderer", "socket-1", "--unix"])
        .arg(&socket);
    command.kill_on_drop(true);
    let unix_child = command.spawn()?;
    children.push(("socket-1".into(), ChildProcess::Plain(unix_child)));

    // Wait until all three renderers are connected, then broadcast to them.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while main.renderer_count() < 3 {
        if tokio::time::Instant::now() > deadline {
            return Err("renderers did not connect in time".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let labels: BTreeSet<String> = main
        .renderers()
        .iter()
        .map(|c| c.label().to_string())
        .collect();
    println!("main: connected renderers: {labels:?}");
    // Renderers subscribe before they log "ready"; broadcast once every one of them is ready.
    while stats
        .logs
        .lock()
        .unwrap()
        .values()
        .filter(|l| l.iter().any(|l| l == "ready"))
        .count()
        < 3
    {
        if tokio::time::Instant::now() > deadline {
            return Err("renderers did not get ready in time".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reached = Todos::events(&main).announce(Target::All, "start".into());
    println!("main: broadcast `start` to {reached} renderers");

    let mut failures = 0;
    for (label, child) in &mut children {
        let status = child.wait().await?;
        println!("main: {label} exited with {status}");
        if !status.success() {
            failures += 1;
        }
    }
    drop(listener);

    println!("---- summary ----");
    for (label, calls) in stats.calls.lock().unwrap().iter() {
        let logs = stats.logs.lock().unwrap().get(label).map_or(0, Vec::len);
        println!("{label:>9}: {calls} invokes served, {logs} log lines received");
    }
    println!(
        "cancelled slow handlers on main: {}",
        stats.cancelled.load(Ordering::SeqCst)
    );
    let todos = main.renderer_count();
    println!("renderers still connected: {todos}");

    // A renderer built from another version of the contract is refused at the handshake.
    let mut stale = Todos::schema().clone();
    stale.hash = "0000000000000000".into();
    match Renderer::connect_unix(
        &socket_again(&main, &dir)?,
        RendererOptions::new("stale").contract(&stale),
    )
    .await
    {
        Err(error @ IpcError::VersionMismatch { .. }) => {
            println!("stale renderer refused: {error}")
        }
        other => {
            println!("stale renderer: unexpected {other:?}");
            failures += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if failures > 0 {
        return Err(format!("{failures} renderer(s) failed").into());
    }
    println!("all renderers succeeded");
    Ok(())
}

/// Listens again (the first listener was dropped) so the stale-contract check has a socket.
fn socket_again(main: &Main, dir: &std::path::Path) -> Result<std::path::PathBuf, BoxError> {
    let path = dir.join("again.sock");
    let _ = std::fs::remove_file(&path);
    let listener = main.listen_unix(&path)?;
    // Keep listening until the process exits.
    std::mem::forget(listener);
    Ok(path)
}

enum ChildProcess {
    Renderer(ipc_runtime::ChildRenderer),
    Plain(tokio::process::Child),
}

fn child_process(child: ipc_runtime::ChildRenderer) -> ChildProcess {
    ChildProcess::Renderer(child)
}

impl ChildProcess {
    async fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        match self {
            ChildProcess::Renderer(child) => child.wait().await,
            ChildProcess::Plain(child) => child.wait().await,
        }
    }
}

async fn listen(path: &str) -> Result<(), BoxError> {
    let (main, _stats) = start_main(true)?;
    let _ = std::fs::remove_file(path);
    let listener = main.listen_unix(path)?;
    println!(
        "main: listening on {} (contract {}); Ctrl-C to stop",
        listener.path().display(),
        Todos::contract_hash()
    );
    tokio::signal::ctrl_c().await?;
    println!(
        "main: interrupted, {} renderers connected",
        main.renderer_count()
    );
    main.shutdown();
    Ok(())
}

/// A renderer process: every method kind, then wait for main's broadcast.
async fn renderer(label: &str, unix: Option<&str>) -> Result<(), BoxError> {
    let options = RendererOptions::new(label).contract(Todos::schema());
    let connection = match unix {
        Some(path) => Renderer::connect_unix(path, options).await?,
        None => Renderer::connect_stdio(options).await?,
    };
    let client = TodosClient::new(connection);
    let mut announcements = client.on_announce();
    let mut changes = client.on_changed();
    client.log("ready".into())?;

    let todo = client.add(format!("task from {label}")).await?;
    let toggled = client.toggle(todo.id).await?;
    assert!(toggled.done);
    match client.toggle(10_000).await {
        Err(CallError::App(TodoError::NotFound { id })) => assert_eq!(id, 10_000),
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }
    match client.crash().await {
        Err(IpcError::HandlerPanicked { .. }) => {}
        other => return Err(format!("expected HandlerPanicked, got {other:?}").into()),
    }
    let listed = client.list().await?;
    if label == "pipe-1" {
        // Cancel a slow call: the timeout drops the call, which cancels the handler on main.
        match client
            .slow(10_000)
            .timeout(Duration::from_millis(100))
            .await
        {
            Err(IpcError::Timeout { .. }) => {}
            other => return Err(format!("expected Timeout, got {other:?}").into()),
        }
    }
    let change = changes.next().await.ok_or("event stream ended")??;
    let announcement = announcements
        .next()
        .await
        .ok_or("announcement stream ended")??;
    client.log(format!(
        "done: {} todos listed, first change #{}, heard {announcement:?}",
        listed.len(),
        change.id
    ))?;
    eprintln!(
        "{label}: ok (added #{}, listed {}, announcement {announcement:?})",
        todo.id,
        listed.len()
    );
    // Let the last send leave before the process exits.
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}
