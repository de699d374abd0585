//! Contracts and backends shared by the integration tests (each test file is its own crate and
//! uses only part of this module).
#![allow(dead_code)]

pub mod on_socket;
pub mod raw;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipc_runtime::{Caller, channels};
use tokio::sync::{Semaphore, mpsc};

/// A generous bound for anything that should happen "promptly": only there to turn a hang into
/// a failure, never to measure speed.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A path for a test's Unix socket: in one directory of this user's, so that runs leave no
/// directories behind (a listener removes its socket file when dropped), and named for this
/// process and `name`, so that test binaries running at once never meet.
pub fn socket_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ipc-test-sockets-{}",
        rustix::process::getuid().as_raw()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Awaits `future`, failing the test (instead of hanging) if it never completes.
pub async fn within<F: IntoFuture>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, future.into_future()).await {
        Ok(output) => output,
        Err(_) => panic!("timed out waiting for: {what}"),
    }
}

/// Polls `condition` until it holds (for state main cleans up asynchronously).
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
}

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
    /// The title is not acceptable.
    #[error("invalid title {title:?}: {reason}")]
    InvalidTitle {
        /// The title that was refused.
        title: String,
        /// Why.
        reason: String,
    },
}

/// Todo list backend.
#[channels(namespace = "todos")]
pub trait Todos {
    /// Adds a todo and returns it.
    async fn add(&self, title: String) -> Todo;
    /// Adds a todo, refusing empty titles.
    async fn try_add(&self, title: String) -> Result<Todo, TodoError>;
    /// Toggles a todo's `done` flag.
    async fn toggle(&self, id: u32) -> Result<Todo, TodoError>;
    /// Lists every todo.
    async fn list(&self) -> Vec<Todo>;
    /// How many todos there are.
    async fn count(&self) -> u32;
    /// Renames a todo.
    async fn rename(&self, id: u32, title: String) -> Result<(), TodoError>;
    /// Removes every todo.
    async fn clear(&self);
    /// Fire-and-forget log line from a renderer.
    #[send]
    fn log(&self, line: String);
    /// Pushed to renderers whenever a todo changes.
    #[event]
    fn changed(&self, todo: Todo);
    /// Pushed when the list was cleared (no payload).
    #[event]
    fn cleared(&self);
    /// Pushed when a todo was renamed (two arguments).
    #[event]
    fn renamed(&self, id: u32, title: String);
}

/// An in-memory `Todos` backend; its log lines go to `log`.
pub struct TodoBackend {
    pub todos: Mutex<Vec<Todo>>,
    pub log: mpsc::UnboundedSender<(Caller, String)>,
}

impl TodoBackend {
    /// A backend and the receiver of its log lines.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<(Caller, String)>) {
        let (log, lines) = mpsc::unbounded_channel();
        (
            TodoBackend {
                todos: Mutex::new(Vec::new()),
                log,
            },
            lines,
        )
    }

    fn insert(&self, title: String) -> Todo {
        let mut todos = self.todos.lock().unwrap();
        let todo = Todo {
            id: todos.len() as u32 + 1,
            title,
            done: false,
        };
        todos.push(todo.clone());
        todo
    }
}

impl TodosHandler for TodoBackend {
    async fn add(&self, _caller: &Caller, title: String) -> Todo {
        self.insert(title)
    }

    async fn try_add(&self, _caller: &Caller, title: String) -> Result<Todo, TodoError> {
        if title.trim().is_empty() {
            return Err(TodoError::InvalidTitle {
                title,
                reason: "a title must not be blank".into(),
            });
        }
        Ok(self.insert(title))
    }

    async fn toggle(&self, _caller: &Caller, id: u32) -> Result<Todo, TodoError> {
        let mut todos = self.todos.lock().unwrap();
        let todo = todos
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(TodoError::NotFound { id })?;
        todo.done = !todo.done;
        Ok(todo.clone())
    }

    async fn list(&self, _caller: &Caller) -> Vec<Todo> {
        self.todos.lock().unwrap().clone()
    }

    async fn count(&self, _caller: &Caller) -> u32 {
        self.todos.lock().unwrap().len() as u32
    }

    async fn rename(&self, _caller: &Caller, id: u32, title: String) -> Result<(), TodoError> {
        let mut todos = self.todos.lock().unwrap();
        let todo = todos
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(TodoError::NotFound { id })?;
        todo.title = title;
        Ok(())
    }

    async fn clear(&self, _caller: &Caller) {
        self.todos.lock().unwrap().clear();
    }

    async fn log(&self, caller: &Caller, line: String) {
        let _ = self.log.send((caller.clone(), line));
    }
}

/// A contract whose handlers the tests steer: they report when they start, wait for a release,
/// panic on request, and report when their future is dropped.
#[channels(namespace = "probe")]
pub trait Probe {
    /// Returns its argument.
    async fn echo(&self, value: u32) -> u32;
    /// Reports `tag` as started, then waits until the test releases one permit; returns `tag`.
    async fn block(&self, tag: u32) -> u32;
    /// Sleeps `millis` milliseconds (of Tokio time), then returns them.
    async fn nap(&self, millis: u32) -> u32;
    /// Panics with `message`.
    async fn crash(&self, message: String) -> u32;
    /// Describes the caller (`label|origin|frame_url|renderer id`).
    async fn whoami(&self) -> String;
    /// Records the line; panics when the line is `"panic"`.
    #[send]
    fn note(&self, line: String);
    /// Sums an upload.
    async fn drain(&self, items: ipc_runtime::Stream<u32>) -> u32;
    /// Holds an upload without reading it until the test releases one permit; returns 0.
    async fn hold(&self, items: ipc_runtime::Stream<u32>) -> u32;
    /// The numbers `0..n`, as a stream.
    async fn ticks(&self, n: u32) -> ipc_runtime::Stream<u32>;
}

/// The steerable `Probe` backend and the test's ends of its channels.
pub struct ProbeBackend {
    started: mpsc::UnboundedSender<u32>,
    dropped: mpsc::UnboundedSender<u32>,
    release: Arc<Semaphore>,
    notes: mpsc::UnboundedSender<(Caller, String)>,
    callers: mpsc::UnboundedSender<Caller>,
}

/// What a test holds to steer and observe a [`ProbeBackend`].
pub struct ProbeControl {
    /// Tags of `block` calls that started running on main.
    pub started: mpsc::UnboundedReceiver<u32>,
    /// Tags of `block` calls whose handler future was dropped before it finished (cancelled).
    pub dropped: mpsc::UnboundedReceiver<u32>,
    /// One permit lets one `block` call finish.
    pub release: Arc<Semaphore>,
    /// Lines received by the `note` listener, with their caller.
    pub notes: mpsc::UnboundedReceiver<(Caller, String)>,
    /// The caller of every `whoami` call.
    pub callers: mpsc::UnboundedReceiver<Caller>,
}

impl ProbeBackend {
    pub fn new() -> (Self, ProbeControl) {
        let (started, started_rx) = mpsc::unbounded_channel();
        let (dropped, dropped_rx) = mpsc::unbounded_channel();
        let (notes, notes_rx) = mpsc::unbounded_channel();
        let (callers, callers_rx) = mpsc::unbounded_channel();
        let release = Arc::new(Semaphore::new(0));
        (
            ProbeBackend {
                started,
                dropped,
                release: release.clone(),
                notes,
                callers,
            },
            ProbeControl {
                started: started_rx,
                dropped: dropped_rx,
                release,
                notes: notes_rx,
                callers: callers_rx,
            },
        )
    }
}

impl ProbeControl {
    /// Waits until `count` `block` calls have started; returns their tags in start order.
    pub async fn wait_started(&mut self, count: usize) -> Vec<u32> {
        let mut tags = Vec::new();
        while tags.len() < count {
            let tag = within("a block call to start", self.started.recv())
                .await
                .expect("backend alive");
            tags.push(tag);
        }
        tags
    }

    /// Waits until the handler future of a `block` call was dropped; returns its tag.
    pub async fn wait_dropped(&mut self) -> u32 {
        within("a handler to be cancelled", self.dropped.recv())
            .await
            .expect("backend alive")
    }
}

/// Reports its tag on `dropped` unless disarmed: proof that a handler future was dropped early.
struct DropGuard {
    tag: u32,
    dropped: Option<mpsc::UnboundedSender<u32>>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(dropped) = self.dropped.take() {
            let _ = dropped.send(self.tag);
        }
    }
}

impl ProbeHandler for ProbeBackend {
    async fn echo(&self, _caller: &Caller, value: u32) -> u32 {
        value
    }

    async fn block(&self, _caller: &Caller, tag: u32) -> u32 {
        let mut guard = DropGuard {
            tag,
            dropped: Some(self.dropped.clone()),
        };
        let _ = self.started.send(tag);
        let permit = self.release.acquire().await.expect("semaphore open");
        permit.forget();
        guard.dropped = None;
        tag
    }

    async fn nap(&self, _caller: &Caller, millis: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(u64::from(millis))).await;
        millis
    }

    async fn crash(&self, _caller: &Caller, message: String) -> u32 {
        panic!("{message}")
    }

    async fn whoami(&self, caller: &Caller) -> String {
        let _ = self.callers.send(caller.clone());
        format!(
            "{}|{}|{}|{}",
            caller.label(),
            caller.origin().unwrap_or("-"),
            caller.frame_url().unwrap_or("-"),
            caller.renderer().get()
        )
    }

    async fn note(&self, caller: &Caller, line: String) {
        if line == "panic" {
            panic!("note listener asked to panic");
        }
        let _ = self.notes.send((caller.clone(), line));
    }

    async fn drain(&self, _caller: &Caller, items: ipc_runtime::Stream<u32>) -> u32 {
        use futures_util::StreamExt;
        items
            .fold(0u32, |total, item| async move {
                total.wrapping_add(item.unwrap_or(0))
            })
            .await
    }

    async fn hold(&self, _caller: &Caller, items: ipc_runtime::Stream<u32>) -> u32 {
        let permit = self.release.acquire().await.expect("semaphore open");
        permit.forget();
        drop(items);
        0
    }

    async fn ticks(&self, _caller: &Caller, n: u32) -> ipc_runtime::Stream<u32> {
        ipc_runtime::Stream::from_iter(0..n)
    }
}
