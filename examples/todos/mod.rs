//! The `Todos` contract and its main-side implementation, shared by the examples.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use ipc_runtime::{Bytes, Caller, Port, Stream, Target, channels};
use tokio::sync::broadcast;

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

/// What main has observed so far, as the contract reports it (for tests and tools).
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatsReport {
    /// Invokes served, all renderers together (`stats` itself is not counted).
    pub calls: u32,
    /// Slow calls whose handler was dropped before finishing (cancelled or timed out).
    pub cancelled: u32,
    /// Log lines received, by renderer label, then in arrival order.
    pub logs: Vec<String>,
    /// The web origins of the callers of invokes (known for windows behind a bridge), sorted.
    pub origins: Vec<String>,
}

/// When a todo is due, and how it reminds (time values cross as JavaScript `Date`s and numbers
/// of milliseconds: docs/PROTOCOL.md §4, "Time values").
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    /// When it is due (any date, also before 1970).
    pub due: SystemTime,
    /// How often to remind until it is done, if at all.
    pub remind_every: Option<Duration>,
    /// When the reminder was snoozed, oldest first.
    pub snoozed: Vec<SystemTime>,
}

/// How much a todo's files take, in bytes: 64-bit integers, `bigint`s in JavaScript (exact).
#[ipc_runtime::data(large_ints = "bigint")]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Bytes in all.
    pub bytes: u64,
    /// The change since the last measure (negative when files shrank).
    pub delta: i64,
    /// Earlier totals, oldest first.
    pub history: Vec<u64>,
}

/// How a page shows the list, as main keeps it for each renderer: one enum of each of serde's
/// representations (what JavaScript sends and gets back is checked against each), a small
/// integer nested in a variant (checked for its range) and a `Vec<u8>` declared as bytes.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct View {
    /// The order of the list (externally tagged, serde's default: `"newest"`,
    /// `{ "by_title": { "descending": true } }`).
    pub order: Order,
    /// Which todos show (internally tagged: `{ "by": "done", "done": false }`).
    pub filters: Vec<Filter>,
    /// Which part of the list shows (adjacently tagged: `{ "t": "range", "c": [0, 20] }`).
    pub page: Page,
    /// Todos pinned to the top, by id or by title (untagged: `7` or `"milk"`).
    pub pinned: Vec<TodoRef>,
    /// The list's icon, if it has one: bytes (a `Uint8Array` in JavaScript).
    #[bytes]
    pub icon: Option<Vec<u8>>,
}

/// The order of the list.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Newest first.
    Newest,
    /// Oldest first.
    Oldest,
    /// By title.
    ByTitle {
        /// Z to A.
        descending: bool,
    },
    /// By due date, those without one last unless `true`.
    ByDue(bool),
}

/// One condition a shown todo meets.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Filter {
    /// Done, or not done.
    Done {
        /// Which.
        done: bool,
    },
    /// Titles containing this text.
    Title {
        /// The text.
        contains: String,
    },
    /// Every todo.
    All,
}

/// Which part of the list shows.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "c", rename_all = "snake_case")]
pub enum Page {
    /// The whole list.
    All,
    /// `count` todos from the `first` (at most 1000).
    Range(u32, u16),
    /// The todos after this id.
    After(u32),
}

/// A todo named by its id or its title.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum TodoRef {
    /// By id.
    Id(u32),
    /// By title.
    Title(String),
}

/// Todo list backend. Its 64-bit integers are JavaScript `bigint`s (`large_ints = "bigint"`).
#[channels(namespace = "todos", large_ints = "bigint")]
pub trait Todos {
    /// Adds a todo and returns it.
    async fn add(&self, title: String) -> Todo;
    /// Toggles a todo's `done` flag.
    async fn toggle(&self, id: u32) -> Result<Todo, TodoError>;
    /// Lists every todo.
    async fn list(&self) -> Vec<Todo>;
    /// Sleeps for `millis` and returns it; used to show deadlines and cancellation.
    async fn slow(&self, millis: u32) -> u32;
    /// Panics; used to show that main keeps serving.
    async fn crash(&self) -> u32;
    /// Reports what main has observed (calls served, cancelled handlers, log lines).
    async fn stats(&self) -> StatsReport;
    /// Every todo as it is now, then each change as it happens: `limit` todos in all.
    async fn watch(&self, limit: u32) -> Stream<Todo>;
    /// Adds a todo for each title of the stream (an upload); returns how many were added.
    async fn import(&self, titles: Stream<String>) -> u32;
    /// Opens a chat with main: main answers each line with the line in upper case.
    async fn chat(&self) -> Port<String, String>;
    /// Removes every finished todo and returns how many. Native renderers may, and the app's
    /// own page from its main frame: an iframe, another origin's page or a web page on the
    /// WebSocket endpoint never sees it in its API, and main refuses it to them.
    #[policy(native)]
    #[policy(window, origin = "app://todos", main_frame)]
    async fn purge(&self) -> u32;
    /// Stores a file on a todo, replacing the one it had; returns the stored size in bytes.
    async fn attach(&self, id: u32, file: Bytes) -> Result<u32, TodoError>;
    /// The file stored on a todo (empty when it has none).
    async fn attachment(&self, id: u32) -> Result<Bytes, TodoError>;
    /// Renames todos by id (a map from id to title); returns how many were renamed.
    async fn rename_all(&self, titles: BTreeMap<u32, String>) -> u32;
    /// Finds a todo by id while the caller is blocked (a sync call: Electron's `sendSync`, for
    /// a page that must have a value before it goes on). Main first waits `delay_ms`, to show
    /// the deadline: past 1000 ms the caller gets `timeout` and the handler is cancelled.
    #[sync(timeout_ms = 1000)]
    async fn lookup(&self, id: u32, delay_ms: u32) -> Result<Todo, TodoError>;
    /// Sets a todo's schedule, replacing the one it had; returns it as stored.
    async fn schedule(&self, id: u32, schedule: Schedule) -> Result<Schedule, TodoError>;
    /// When a todo is due, if it has a schedule.
    async fn due(&self, id: u32) -> Result<Option<SystemTime>, TodoError>;
    /// `at` moved later by `by` (earlier when `back`): time values in and out of a call.
    async fn postpone(&self, at: SystemTime, by: Duration, back: bool) -> SystemTime;
    /// `usage` with `extra` more bytes (at most `u64::MAX`), the old total added to its history:
    /// 64-bit integers in and out of a call.
    async fn measure(&self, usage: Usage, extra: u64) -> Usage;
    /// Keeps how the caller's page shows the list (a page that reloads gets it back with `view`);
    /// returns it as kept: a range's count is capped at 1000.
    async fn set_view(&self, view: View) -> View;
    /// How the caller's page shows the list, if it set it.
    async fn view(&self) -> Option<View>;
    /// Opens a new notebook whose first line is `title`: a handle to one object in main (a
    /// capability: Electron's `remote.require('fs').open(...)`, done safely), the caller's alone.
    /// Releasing or dropping the handle frees the notebook in main.
    async fn open_notebook(&self, title: String) -> ipc_runtime::Handle<Notebook>;
    /// How many notebooks are open in main now (released ones are gone).
    async fn notebooks_open(&self) -> u32;
    /// Hands every todo, in order, to an object the caller serves (a capability the other way
    /// round: a page passes a plain object with `TodoSink`'s methods, a Rust renderer one it
    /// serves with `TodoSink::serve`) and returns how many it took. The sink stops the export by
    /// answering `false`; its `Refused` error fails the export with that error, and any other
    /// failure (it threw, it is gone) with `Broken`. Main releases the sink when it returns.
    async fn export(&self, sink: ipc_runtime::Handle<TodoSink>) -> Result<u32, ExportError>;
    /// Main asks the renderer a yes/no question (a request: the renderer answers).
    #[request]
    async fn confirm(&self, question: String) -> bool;
    /// Fire-and-forget log line from a renderer.
    #[send]
    fn log(&self, line: String);
    /// Pushed to renderers whenever a todo changes.
    #[event]
    fn changed(&self, todo: Todo);
    /// Pushed to renderers whenever a todo's schedule is set.
    #[event]
    fn scheduled(&self, id: u32, schedule: Schedule);
    /// A message main broadcasts to every renderer.
    #[event]
    fn announce(&self, message: String);
    /// Main introduces two renderers to each other: each gets one end of a port pair (sent to
    /// one renderer at a time, `Target::Renderer`) and talks to the other through it.
    #[event]
    fn introduce(&self, peer: Port<String, String>);
}

/// An open notebook: lines main keeps for whoever holds its handle (a capability: the holder calls
/// this one object's methods, and dropping the handle releases it in main).
#[channels(namespace = "notebook", capability)]
pub trait Notebook {
    /// Appends a line; returns how many lines the notebook has.
    async fn write(&self, line: String) -> u32;
    /// Every line so far, oldest first.
    async fn read(&self) -> Vec<String>;
    /// Removes every line and returns how many there were. A capability's methods may carry a
    /// policy, judged at each call against whoever holds the handle: native renderers and
    /// Electron windows may, a web page on the WebSocket endpoint gets `forbidden`.
    #[policy(native)]
    #[policy(window)]
    async fn clear(&self) -> u32;
}

/// Where `export` delivers todos: an object the renderer serves, which main calls through the
/// handle the call handed over.
#[channels(namespace = "todo_sink", capability)]
pub trait TodoSink {
    /// Takes one todo, with when main sent it; `false` stops the export (this todo not taken).
    async fn take(&self, todo: Todo, sent: SystemTime) -> Result<bool, ExportError>;
}

/// Why an export failed.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum ExportError {
    /// The sink refused a todo.
    #[error("the sink refused todo {id}: {reason}")]
    Refused {
        /// The todo it refused.
        id: u32,
        /// Why.
        reason: String,
    },
    /// The sink failed in some other way (it threw, or is gone).
    #[error("the sink broke: {reason}")]
    Broken {
        /// What went wrong.
        reason: String,
    },
}

/// Main's notebooks: each is an object behind one handle, counted while it lives.
#[derive(Debug, Default)]
pub struct Shelf {
    open: std::sync::Arc<AtomicUsize>,
}

impl Shelf {
    /// How many notebooks are open (handed out and not yet released).
    pub fn open_now(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

/// One notebook object; it leaves the count when its holder releases it.
struct Pages {
    lines: Mutex<Vec<String>>,
    open: std::sync::Arc<AtomicUsize>,
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl NotebookHandler for Pages {
    async fn write(&self, line: String) -> u32 {
        let mut lines = self.lines.lock().unwrap();
        lines.push(line);
        u32::try_from(lines.len()).unwrap_or(u32::MAX)
    }

    async fn read(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    async fn clear(&self) -> u32 {
        let mut lines = self.lines.lock().unwrap();
        let cleared = lines.len();
        lines.clear();
        u32::try_from(cleared).unwrap_or(u32::MAX)
    }
}

/// What main observed, for the examples' summaries.
#[derive(Debug, Default)]
pub struct Stats {
    /// Invokes served, by renderer label.
    pub calls: Mutex<BTreeMap<String, usize>>,
    /// Log lines received, by renderer label.
    pub logs: Mutex<BTreeMap<String, Vec<String>>>,
    /// Slow calls whose handler was dropped before finishing (cancelled by the caller).
    pub cancelled: AtomicUsize,
    /// Web origins of the callers of invokes, where known.
    pub origins: Mutex<std::collections::BTreeSet<String>>,
    /// The notebooks handed out and not yet released.
    pub shelf: Shelf,
}

impl Stats {
    fn count(&self, caller: &Caller) {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(caller.label().to_string())
            .or_default() += 1;
        if let Some(origin) = caller.origin() {
            self.origins.lock().unwrap().insert(origin.to_string());
        }
    }
}

/// The main-side implementation of [`Todos`].
pub struct Backend {
    todos: Mutex<Vec<Todo>>,
    /// Each todo's file, by todo id.
    files: Mutex<BTreeMap<u32, Bytes>>,
    /// Each todo's schedule, by todo id.
    schedules: Mutex<BTreeMap<u32, Schedule>>,
    /// Each renderer's view, by its label: at most `MAX_VIEWS` (the oldest goes first).
    views: Mutex<Vec<(String, View)>>,
    /// Every change, for `watch` streams.
    changes: broadcast::Sender<Todo>,
    events: TodosEvents,
    stats: std::sync::Arc<Stats>,
    verbose: bool,
}

impl Backend {
    /// `NotFound` unless a todo has this id.
    fn exists(&self, id: u32) -> Result<(), TodoError> {
        let todos = self.todos.lock().unwrap();
        if todos.iter().any(|todo| todo.id == id) {
            Ok(())
        } else {
            Err(TodoError::NotFound { id })
        }
    }

    /// Sleeps `millis`; a sleep main drops before it ends counts as a cancelled handler.
    async fn sleep(&self, millis: u32) {
        let mut probe = CancelProbe {
            stats: &self.stats,
            finished: false,
        };
        tokio::time::sleep(Duration::from_millis(u64::from(millis))).await;
        probe.finished = true;
    }

    /// A backend that emits its events through `events` and records into `stats`.
    pub fn new(events: TodosEvents, stats: std::sync::Arc<Stats>, verbose: bool) -> Self {
        Backend {
            todos: Mutex::new(Vec::new()),
            files: Mutex::new(BTreeMap::new()),
            schedules: Mutex::new(BTreeMap::new()),
            views: Mutex::new(Vec::new()),
            changes: broadcast::channel(256).0,
            events,
            stats,
            verbose,
        }
    }
}

/// Views main keeps at most: a renderer can make main hold one, and renderers come and go.
const MAX_VIEWS: usize = 64;

/// Counts a cancellation if the slow handler's future is dropped before it finishes.
struct CancelProbe<'a> {
    stats: &'a Stats,
    finished: bool,
}

impl Drop for CancelProbe<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.stats.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl TodosHandler for Backend {
    async fn add(&self, caller: &Caller, title: String) -> Todo {
        self.stats.count(caller);
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
        if self.verbose {
            // Titles can be megabytes long: print the start only.
            let shown: String = todo.title.chars().take(60).collect();
            let more = if shown.len() < todo.title.len() {
                "…"
            } else {
                ""
            };
            println!(
                "main: {} added #{} {:?}{more}",
                caller.label(),
                todo.id,
                shown
            );
        }
        self.events.changed(Target::All, todo.clone());
        let _ = self.changes.send(todo.clone());
        todo
    }

    async fn toggle(&self, caller: &Caller, id: u32) -> Result<Todo, TodoError> {
        self.stats.count(caller);
        let mut todos = self.todos.lock().unwrap();
        let todo = todos
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(TodoError::NotFound { id })?;
        todo.done = !todo.done;
        let todo = todo.clone();
        self.events.changed(Target::All, todo.clone());
        let _ = self.changes.send(todo.clone());
        Ok(todo)
    }

    async fn list(&self, caller: &Caller) -> Vec<Todo> {
        self.stats.count(caller);
        self.todos.lock().unwrap().clone()
    }

    async fn slow(&self, caller: &Caller, millis: u32) -> u32 {
        self.stats.count(caller);
        self.sleep(millis).await;
        millis
    }

    async fn rename_all(&self, caller: &Caller, titles: BTreeMap<u32, String>) -> u32 {
        self.stats.count(caller);
        let mut todos = self.todos.lock().unwrap();
        let mut renamed = 0;
        for todo in todos.iter_mut() {
            if let Some(title) = titles.get(&todo.id) {
                todo.title = title.clone();
                renamed += 1;
            }
        }
        renamed
    }

    async fn attach(&self, caller: &Caller, id: u32, file: Bytes) -> Result<u32, TodoError> {
        self.stats.count(caller);
        self.exists(id)?;
        let size = u32::try_from(file.len()).unwrap_or(u32::MAX);
        self.files.lock().unwrap().insert(id, file);
        Ok(size)
    }

    async fn attachment(&self, caller: &Caller, id: u32) -> Result<Bytes, TodoError> {
        self.stats.count(caller);
        self.exists(id)?;
        Ok(self
            .files
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .unwrap_or_default())
    }

    async fn schedule(
        &self,
        caller: &Caller,
        id: u32,
        schedule: Schedule,
    ) -> Result<Schedule, TodoError> {
        self.stats.count(caller);
        self.exists(id)?;
        self.schedules.lock().unwrap().insert(id, schedule.clone());
        self.events.scheduled(Target::All, id, schedule.clone());
        Ok(schedule)
    }

    async fn due(&self, caller: &Caller, id: u32) -> Result<Option<SystemTime>, TodoError> {
        self.stats.count(caller);
        self.exists(id)?;
        Ok(self.schedules.lock().unwrap().get(&id).map(|s| s.due))
    }

    async fn postpone(
        &self,
        caller: &Caller,
        at: SystemTime,
        by: Duration,
        back: bool,
    ) -> SystemTime {
        self.stats.count(caller);
        let moved = if back {
            at.checked_sub(by)
        } else {
            at.checked_add(by)
        };
        moved.unwrap_or(at)
    }

    async fn measure(&self, caller: &Caller, usage: Usage, extra: u64) -> Usage {
        self.stats.count(caller);
        let mut history = usage.history;
        history.push(usage.bytes);
        Usage {
            bytes: usage.bytes.saturating_add(extra),
            delta: usage.delta,
            history,
        }
    }

    async fn open_notebook(&self, caller: &Caller, title: String) -> ipc_runtime::Handle<Notebook> {
        self.stats.count(caller);
        let open = self.stats.shelf.open.clone();
        open.fetch_add(1, Ordering::SeqCst);
        Notebook::serve(Pages {
            lines: Mutex::new(vec![title]),
            open,
        })
    }

    async fn set_view(&self, caller: &Caller, mut view: View) -> View {
        self.stats.count(caller);
        if let Page::Range(_, count) = &mut view.page {
            *count = (*count).min(1000);
        }
        let mut views = self.views.lock().unwrap();
        views.retain(|(label, _)| label != caller.label());
        if views.len() >= MAX_VIEWS {
            views.remove(0);
        }
        views.push((caller.label().to_string(), view.clone()));
        view
    }

    async fn view(&self, caller: &Caller) -> Option<View> {
        self.stats.count(caller);
        let views = self.views.lock().unwrap();
        views
            .iter()
            .find(|(label, _)| label == caller.label())
            .map(|(_, view)| view.clone())
    }

    async fn export(
        &self,
        caller: &Caller,
        sink: ipc_runtime::Handle<TodoSink>,
    ) -> Result<u32, ExportError> {
        self.stats.count(caller);
        let sink = sink.client();
        let todos = self.todos.lock().unwrap().clone();
        let mut taken = 0;
        for todo in todos {
            match sink.take(todo, SystemTime::now()).await {
                Ok(true) => taken += 1,
                Ok(false) => break,
                Err(ipc_runtime::CallError::App(error)) => return Err(error),
                Err(ipc_runtime::CallError::Ipc(error)) => {
                    return Err(ExportError::Broken {
                        reason: error.to_string(),
                    });
                }
            }
        }
        Ok(taken)
    }

    async fn notebooks_open(&self, caller: &Caller) -> u32 {
        self.stats.count(caller);
        u32::try_from(self.stats.shelf.open_now()).unwrap_or(u32::MAX)
    }

    async fn lookup(&self, caller: &Caller, id: u32, delay_ms: u32) -> Result<Todo, TodoError> {
        self.stats.count(caller);
        self.sleep(delay_ms).await;
        let todos = self.todos.lock().unwrap();
        let found = todos.iter().find(|todo| todo.id == id).cloned();
        found.ok_or(TodoError::NotFound { id })
    }

    async fn crash(&self, caller: &Caller) -> u32 {
        self.stats.count(caller);
        panic!("the crash handler always panics")
    }

    async fn purge(&self, caller: &Caller) -> u32 {
        self.stats.count(caller);
        let mut todos = self.todos.lock().unwrap();
        let before = todos.len();
        todos.retain(|todo| !todo.done);
        u32::try_from(before - todos.len()).unwrap_or(u32::MAX)
    }

    async fn stats(&self, _caller: &Caller) -> StatsReport {
        let calls = self.stats.calls.lock().unwrap().values().sum::<usize>();
        StatsReport {
            calls: u32::try_from(calls).unwrap_or(u32::MAX),
            cancelled: u32::try_from(self.stats.cancelled.load(Ordering::SeqCst))
                .unwrap_or(u32::MAX),
            logs: self
                .stats
                .logs
                .lock()
                .unwrap()
                .values()
                .flatten()
                .cloned()
                .collect(),
            origins: self.stats.origins.lock().unwrap().iter().cloned().collect(),
        }
    }

    async fn watch(&self, caller: &Caller, limit: u32) -> Stream<Todo> {
        self.stats.count(caller);
        // Subscribed before the current list is read: no change falls in between.
        let mut changes = self.changes.subscribe();
        let current = self.todos.lock().unwrap().clone();
        let (sender, stream) = Stream::channel();
        tokio::spawn(async move {
            let mut left = limit;
            for todo in current {
                if left == 0 || sender.send(todo).await.is_err() {
                    return;
                }
                left -= 1;
            }
            while left > 0 {
                match changes.recv().await {
                    Ok(todo) => {
                        if sender.send(todo).await.is_err() {
                            return; // the watcher cancelled
                        }
                        left -= 1;
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        stream
    }

    async fn import(&self, caller: &Caller, titles: Stream<String>) -> u32 {
        use futures_util::StreamExt;
        let mut titles = titles;
        let mut added = 0;
        while let Some(Ok(title)) = titles.next().await {
            self.add(caller, title).await;
            added += 1;
        }
        added
    }

    async fn chat(&self, caller: &Caller) -> Port<String, String> {
        self.stats.count(caller);
        let (mine, theirs) = Port::<String, String>::pair();
        tokio::spawn(async move {
            while let Some(Ok(line)) = mine.recv().await {
                if mine.send(line.to_uppercase()).await.is_err() {
                    return;
                }
            }
        });
        theirs
    }

    async fn log(&self, caller: &Caller, line: String) {
        if self.verbose {
            println!("main: log from {}: {line}", caller.label());
        }
        self.stats
            .logs
            .lock()
            .unwrap()
            .entry(caller.label().to_string())
            .or_default()
            .push(line);
    }
}
