//! Multiprocess: main and several renderer processes, over real pipes and a real Unix socket.
//!
//! `cargo run --example multiprocess` starts main, which spawns renderer processes (this same
//! binary with `--renderer`): two talk over their stdin/stdout, one connects to a Unix socket
//! main listens on. Each renderer exercises every method kind (invoke, fallible invoke, send,
//! events), main broadcasts an announcement to all of them, one renderer cancels a slow call,
//! one tries a renderer built from another contract version, and main prints a summary.
//!
//! Ports and streams too: each renderer watches main's todos as a stream (`watch`), uploads a
//! stream of titles (`import`) and chats over a port main hands it (`chat`); main asks every
//! renderer a question (`confirm`, a request from main), and introduces the two stdio renderers
//! to each other with the two ends of one port pair, over which they then talk (relayed by main).
//!
//! `cargo run --example multiprocess -- --listen /tmp/todos.sock` runs main until interrupted,
//! so an outside client can connect with the JSON codec (see docs/PROTOCOL.md).

mod todos;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use ipc_runtime::{CallError, IpcError, Main, Port, Renderer, RendererOptions, Stream, Target};
use todos::{Backend, Stats, TodoError, Todos, TodosClient, TodosRendererHandler};

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
    // The registrations stay in place for the life of `main`.
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

    // Main asks each renderer a question (a request: the renderer answers).
    for caller in main.renderers() {
        let question = format!("are you {}?", caller.label());
        let answer = Todos::renderer_client(&main, caller.renderer())
            .confirm(question.clone())
            .timeout(Duration::from_secs(10))
            .await;
        println!("main: asked {} {question:?}: {answer:?}", caller.label());
        if answer != Ok(true) {
            return Err(format!("{} answered {answer:?}", caller.label()).into());
        }
    }

    // Main introduces the two stdio renderers: each gets one end of a port pair.
    let (one, other) = Port::<String, String>::pair();
    let events = Todos::events(&main);
    for (label, end) in [("pipe-1", one), ("pipe-2", other)] {
        let id = main
            .renderers()
            .into_iter()
            .find(|c| c.label() == label)
            .ok_or("renderer gone")?
            .renderer();
        events.introduce(Target::Renderer(id), end);
    }
    println!("main: introduced pipe-1 and pipe-2 over a port pair");

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
    // Each renderer opened a notebook (a capability) and dropped its handle: none is left (a
    // release travels as a close, so it may still be on its way).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while stats.shelf.open_now() != 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("notebooks still open in main: {}", stats.shelf.open_now());
    if stats.shelf.open_now() != 0 {
        return Err("a notebook outlived its handle".into());
    }

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

/// A renderer's answers to main's questions.
struct Answers {
    label: String,
}

impl TodosRendererHandler for Answers {
    async fn confirm(&self, question: String) -> bool {
        question.contains(&self.label)
    }
}

/// A renderer process: every method kind, then wait for main's broadcast.
async fn renderer(label: &str, unix: Option<&str>) -> Result<(), BoxError> {
    let options = RendererOptions::new(label).contract(Todos::schema());
    let connection = match unix {
        Some(path) => Renderer::connect_unix(path, options).await?,
        None => Renderer::connect_stdio(options).await?,
    };
    Todos::handle_requests(
        &connection,
        Answers {
            label: label.to_string(),
        },
    )?;
    let client = TodosClient::new(connection);
    let mut announcements = client.on_announce();
    let mut changes = client.on_changed();
    let mut introductions = client.on_introduce();
    client.log("ready".into())?;

    // A stream from main: the todos as they are, then as they change.
    let watching = client.watch(2).await?;
    // An upload: a stream of titles, added by main.
    let titles: Vec<String> = (1..=3)
        .map(|n| format!("imported {n} from {label}"))
        .collect();
    let imported = client.import(Stream::from_iter(titles)).await?;
    let watched: Vec<_> = watching.take(2).collect().await;
    if imported != 3 || watched.len() != 2 || watched.iter().any(Result::is_err) {
        return Err(format!("streams: imported {imported}, watched {watched:?}").into());
    }
    // A port main hands over: main answers each line in upper case.
    let chat = client.chat().await?;
    chat.send(format!("hello from {label}")).await?;
    let echoed = chat.recv().await.ok_or("chat closed")??;
    if echoed != format!("HELLO FROM {}", label.to_uppercase()) {
        return Err(format!("chat echoed {echoed:?}").into());
    }
    drop(chat);

    // A capability: a handle to one notebook object in main, called through its own methods;
    // dropping the handle releases the object there.
    let notebook = client
        .open_notebook(format!("{label}'s notes"))
        .await?
        .client();
    notebook.write(format!("{label} was here")).await?;
    let lines = notebook.read().await?;
    if lines != [format!("{label}'s notes"), format!("{label} was here")] {
        return Err(format!("the notebook holds {lines:?}").into());
    }
    drop(notebook);

    let todo = client.add(format!("task from {label}")).await?;
    let toggled = client.toggle(todo.id).await?;
    assert!(toggled.done);
    match client.toggle(10_000).await {
        Err(CallError::App(TodoError::NotFound { id })) => assert_eq!(id, 10_000),
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }
    // A sync call (Electron's sendSync): a plain thread blocks until main answers.
    let blocking = client.clone();
    let id = todo.id;
    let looked_up = tokio::task::spawn_blocking(move || blocking.lookup(id, 0)).await??;
    if looked_up != toggled {
        return Err(format!("lookup gave {looked_up:?}").into());
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
    // The stdio renderers are introduced to each other: they talk over the port pair, through
    // main.
    if unix.is_none() {
        // Bounded: a renderer that never hears its peer says so and fails instead of waiting.
        let exchange = async {
            let peer = introductions
                .next()
                .await
                .ok_or("introduction stream ended")??;
            peer.send(format!("hi, {label} here")).await?;
            let heard = peer.recv().await.ok_or("the peer closed")??;
            Ok::<_, BoxError>((peer, heard))
        };
        let (_peer, heard) = tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .map_err(|_| {
                format!("{label}: no introduction or no word from its peer within 30 s")
            })??;
        client.log(format!("heard from my peer: {heard}"))?;
        eprintln!("{label}: heard from its peer over the port: {heard:?}");
        // Both said hello before either closes.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
