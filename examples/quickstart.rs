//! Quickstart: one contract, every method kind, in one process.
//!
//! Run with `cargo run --example quickstart`. Main registers a handler for the `Todos` contract;
//! two in-process renderers call it (invoke, fallible invoke, send), subscribe to its event, and
//! see what happens when a handler fails, panics or is missing.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use ipc_runtime::{CallError, Caller, IpcError, Main, RendererOptions, Target, channels};

/// One item of the todo list.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Todo {
    /// Its id.
    pub id: u32,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
}

/// Why a todo operation failed.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum TodoError {
    /// No todo has this id.
    #[error("no todo with id {id}")]
    NotFound {
        /// The id that was asked for.
        id: u32,
    },
}

/// Todo list backend.
#[channels(namespace = "todos")]
pub trait Todos {
    /// Adds a todo and returns it.
    async fn add(&self, title: String) -> Todo;
    /// Toggles a todo's `done` flag.
    async fn toggle(&self, id: u32) -> Result<Todo, TodoError>;
    /// Lists every todo.
    async fn list(&self) -> Vec<Todo>;
    /// Takes a while; used to show deadlines.
    async fn slow(&self, millis: u32) -> u32;
    /// Panics; used to show that main keeps serving.
    async fn crash(&self) -> u32;
    /// Fire-and-forget log line from a renderer.
    #[send]
    fn log(&self, line: String);
    /// Pushed to renderers whenever a todo changes.
    #[event]
    fn changed(&self, todo: Todo);
}

struct Backend {
    todos: Mutex<Vec<Todo>>,
    events: TodosEvents,
}

impl TodosHandler for Backend {
    async fn add(&self, caller: &Caller, title: String) -> Todo {
        let todo = {
            let mut todos = self.todos.lock().unwrap();
            let todo = Todo {
                id: todos.len() as u32 + 1,
                title,
                done: false,
            };
            todos.push(todo.clone());
            todo
        };
        println!(
            "main: {} added #{} {:?}",
            caller.label(),
            todo.id,
            todo.title
        );
        self.events.changed(Target::All, todo.clone());
        todo
    }

    async fn toggle(&self, _caller: &Caller, id: u32) -> Result<Todo, TodoError> {
        let mut todos = self.todos.lock().unwrap();
        let todo = todos
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(TodoError::NotFound { id })?;
        todo.done = !todo.done;
        let todo = todo.clone();
        self.events.changed(Target::All, todo.clone());
        Ok(todo)
    }

    async fn list(&self, _caller: &Caller) -> Vec<Todo> {
        self.todos.lock().unwrap().clone()
    }

    async fn slow(&self, _caller: &Caller, millis: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(u64::from(millis))).await;
        millis
    }

    async fn crash(&self, _caller: &Caller) -> u32 {
        panic!("the crash handler always panics")
    }

    async fn log(&self, caller: &Caller, line: String) {
        println!("main: log from {}: {line}", caller.label());
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the demo's output readable: the panic below is expected.
    std::panic::set_hook(Box::new(|info| {
        println!("main: (handler panicked: {info})")
    }));

    let main = Main::new();
    let backend = Backend {
        todos: Mutex::new(Vec::new()),
        events: Todos::events(&main),
    };
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

    // events, received by another renderer
    for _ in 0..3 {
        let todo = sidebar_changes.next().await.expect("event stream open");
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

    // a channel nobody handles: a framework error, not an application one
    main.remove_handler(Todos::LIST.name());
    match sidebar.list().await {
        Err(error @ IpcError::NoHandler { .. }) => println!("sidebar: {error}"),
        other => println!("sidebar: unexpected {other:?}"),
    }

    println!(
        "main: {} renderers connected: {:?}",
        main.renderer_count(),
        main.renderers()
            .iter()
            .map(Caller::label)
            .collect::<Vec<_>>()
    );
    Ok(())
}
