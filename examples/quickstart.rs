//! Quickstart: one contract, every method kind, in one process.
//!
//! Run with `cargo run --example quickstart`. Main registers a handler for the `Todos` contract;
//! two in-process renderers call it (invoke, fallible invoke, send), subscribe to its event, and
//! see what happens when a handler fails, panics or is missing.

mod todos;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use ipc_runtime::{CallError, Caller, IpcError, Main, RendererOptions, Target};
use todos::{Backend, Stats, Todos, TodosClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the demo's output readable: the panic below is expected.
    std::panic::set_hook(Box::new(|info| {
        println!("main: (handler panicked: {info})")
    }));

    let main = Main::new();
    let stats = Arc::new(Stats::default());
    let backend = Backend::new(Todos::events(&main), stats.clone(), true);
    let _registration = Todos::handle(&main, backend)?;
    println!(
        "contract `{}` with {} channels, hash {}",
        Todos::schema().namespace,
        Todos::schema().methods.len(),
        Todos::contract_hash()
    );

    let window = TodosClient::new(main.connect_in_process(RendererOptions::new("window")));
    let sidebar = TodosClient::new(main.connect_in_process(RendererOptions::new("sidebar")));
    let mut sidebar_changes = sidebar.on_changed();

    // invoke
    let milk = window.add("buy milk".into()).await?;
    let bread = window.add("buy bread".into()).await?;
    println!("window: added {milk:?} and {bread:?}");

    // fallible invoke: success and the application's own error
    let toggled = window.toggle(milk.id).await?;
    println!("window: toggled #{} -> done = {}", toggled.id, toggled.done);
    match window.toggle(99).await {
        Err(CallError::App(error)) => println!("window: app error as itself: {error:?} ({error})"),
        other => println!("window: unexpected {other:?}"),
    }

    // send
    window.log("hello from the window".into())?;

    // events, received by another renderer (to all, then to one)
    let mut sidebar_news = sidebar.on_announce();
    Todos::events(&main).announce(sidebar.renderer().id(), "hello sidebar".into());
    Todos::events(&main).announce(Target::All, "hello everyone".into());
    for _ in 0..2 {
        // Each item is the event, or a lag notice in the place of events this renderer missed.
        let news = sidebar_news.next().await.expect("event stream open")?;
        println!("sidebar: announced {news:?}");
    }
    for _ in 0..3 {
        let todo = sidebar_changes.next().await.expect("event stream open")?;
        println!("sidebar: changed event {todo:?}");
    }

    // deadlines and cancellation
    match window.slow(2_000).timeout(Duration::from_millis(50)).await {
        Err(IpcError::Timeout { after, .. }) => {
            println!("window: slow call timed out after {after:?}")
        }
        other => println!("window: unexpected {other:?}"),
    }

    // a panicking handler fails only its own call
    match window.crash().await {
        Err(IpcError::HandlerPanicked { message, .. }) => {
            println!("window: handler panicked: {message}")
        }
        other => println!("window: unexpected {other:?}"),
    }
    println!(
        "sidebar: still served, {} todos listed",
        sidebar.list().await?.len()
    );

    // a capability: a handle to one notebook object, called through its own methods, released
    // when the handle is dropped
    let notebook = window.open_notebook("shopping".into()).await?.client();
    notebook.write("milk".into()).await?;
    println!(
        "window: notebook holds {:?}; {} notebook(s) open in main",
        notebook.read().await?,
        stats.shelf.open_now()
    );
    drop(notebook);
    while stats.shelf.open_now() > 0 {
        tokio::task::yield_now().await;
    }
    println!(
        "window: dropped its handle; {} notebook(s) open in main",
        stats.shelf.open_now()
    );

    // a channel nobody handles: a framework error, not an application one
    main.remove_handler(Todos::LIST.name());
    match sidebar.list().await {
        Err(error @ IpcError::NoHandler { .. }) => println!("sidebar: {error}"),
        other => println!("sidebar: unexpected {other:?}"),
    }

    println!(
        "main: {} cancelled handler(s); {} renderers connected: {:?}",
        stats.cancelled.load(std::sync::atomic::Ordering::SeqCst),
        main.renderer_count(),
        main.renderers()
            .iter()
            .map(Caller::label)
            .collect::<Vec<_>>()
    );
    Ok(())
}
