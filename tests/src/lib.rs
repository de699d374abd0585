//! Integration tests, UI tests and examples of typed IPC (not published).
//!
//! The library part holds what the transport conformance suite (`tests/conformance.rs`) shares
//! with its peer process (`src/bin/ipc-test-peer.rs`):
//!
//! - the [`Conformance`] contract and its main-side implementation, [`ConformanceBackend`]. Its
//!   introspection invokes ([`ConformanceClient::stats`], [`ConformanceClient::wait_cancelled`],
//!   [`ConformanceClient::sends_received`], ...) let a renderer observe what happened on main,
//!   so the suite runs from the renderer side whether main lives in the test process or in a
//!   child process;
//! - the [`Scenario`]s a renderer peer plays while the test, as main, watches it go away.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use ipc_runtime::{Caller, Main, Registration, RegistryError, Renderer, RendererId, Target};
use tokio::sync::{Semaphore, watch};

/// A value with a bit of every shape, echoed back unchanged.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Any text (the tests use quotes, newlines and non-ASCII).
    pub text: String,
    /// A signed number.
    pub number: i32,
    /// A list.
    pub items: Vec<u32>,
    /// An optional field.
    pub note: Option<String>,
}

/// The application error of [`Conformance`]'s fallible method.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum ConfError {
    /// The divisor was zero.
    #[error("cannot divide {dividend} by zero")]
    DivisionByZero {
        /// The number that was to be divided.
        dividend: i32,
    },
}

/// Which renderers [`ConformanceClient::emit`] sends its events to.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum EmitTarget {
    /// Only the renderer that asked.
    Caller,
    /// Every connected renderer.
    All,
    /// The renderer with this id (none, if no renderer has it).
    Renderer {
        /// The renderer id (`RendererId::get`).
        id: u32,
    },
    /// Every renderer with this label.
    Label {
        /// The label to match.
        label: String,
    },
}

/// What happened to the `block` calls on main.
#[ipc_runtime::data]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockStats {
    /// `block` handlers that started running.
    pub started: u32,
    /// `block` handlers running now.
    pub running: u32,
    /// `block` handlers that returned.
    pub completed: u32,
    /// `block` handler futures dropped before they returned (cancelled: by the caller, by a
    /// deadline, or because the renderer went away).
    pub cancelled: u32,
}

/// Who main thinks is calling.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallerInfo {
    /// The caller's renderer id (`RendererId::get`).
    pub id: u32,
    /// The caller's label.
    pub label: String,
}

/// The `Origin` WebSocket renderers of the suite present (and WebSocket mains accept).
pub const TEST_ORIGIN: &str = "http://127.0.0.1:9";

/// The tick value a peer in [`Scenario::Events`] takes as "no more events".
pub const END_OF_TICKS: u32 = u32::MAX;

/// The contract every transport is checked against.
#[ipc_runtime::channels(namespace = "conformance")]
pub trait Conformance {
    /// Returns its argument unchanged.
    async fn echo(&self, sample: Sample) -> Sample;
    /// Returns the blobs in reverse order, each with its bytes reversed.
    async fn reverse_blobs(&self, blobs: Vec<ipc_runtime::Bytes>) -> Vec<ipc_runtime::Bytes>;
    /// `a / b`; an application error when `b` is zero, a panic when the quotient overflows.
    async fn divide(&self, a: i32, b: i32) -> Result<i32, ConfError>;
    /// Panics with `message`.
    async fn crash(&self, message: String) -> u32;
    /// Runs until `release` lets it finish, then returns `tag`. Main counts the
    /// handler futures dropped before they finish ([`BlockStats::cancelled`]).
    async fn block(&self, tag: u32) -> u32;
    /// Lets `count` `block` calls finish (now or, if fewer are waiting, later).
    async fn release(&self, count: u32);
    /// The caller's next sequence number (1, 2, 3, ... per renderer).
    async fn next(&self) -> u32;
    /// Emits, for each of `count` values from `first` on, a `pair` and a `tick` event and a
    /// `pulse` to `target`; returns how many renderers the last `tick` was queued for.
    async fn emit(&self, target: EmitTarget, first: u32, count: u32) -> u32;
    /// The caller as main sees it.
    async fn whoami(&self) -> CallerInfo;
    /// The `block` statistics now.
    async fn stats(&self) -> BlockStats;
    /// Waits until at least `count` `block` handlers are running; returns the statistics then.
    async fn wait_running(&self, count: u32) -> BlockStats;
    /// Waits until at least `count` `block` handlers were cancelled; returns the statistics then.
    async fn wait_cancelled(&self, count: u32) -> BlockStats;
    /// Waits until main has handled at least `at_least` `note` sends from the caller; returns
    /// every line the caller sent, in the order main's listener saw them.
    async fn sends_received(&self, at_least: u32) -> Vec<String>;
    /// Shuts main down (`Main::shutdown`): every renderer is disconnected, this caller included,
    /// so the reply to this call may never arrive.
    async fn shutdown_main(&self);
    /// Records a line (fire-and-forget); a line starting with `slow ` takes a millisecond.
    #[send]
    fn note(&self, line: String);
    /// An event without arguments.
    #[event]
    fn pulse(&self);
    /// An event with one argument.
    #[event]
    fn tick(&self, value: u32);
    /// An event with two arguments.
    #[event]
    fn pair(&self, value: u32, label: String);
}

/// What main observed; shared by the backend and whoever wants to look from main's side.
pub struct ConformanceState {
    blocks: Mutex<BlockStats>,
    sends: Mutex<Vec<(RendererId, String, String)>>,
    sequence: Mutex<HashMap<RendererId, u32>>,
    callers: Mutex<Vec<(RendererId, String)>>,
    release: Semaphore,
    changes: watch::Sender<u64>,
}

impl ConformanceState {
    fn new() -> Self {
        ConformanceState {
            blocks: Mutex::new(BlockStats::default()),
            sends: Mutex::new(Vec::new()),
            sequence: Mutex::new(HashMap::new()),
            callers: Mutex::new(Vec::new()),
            release: Semaphore::new(0),
            changes: watch::Sender::new(0),
        }
    }

    /// The `block` statistics now.
    pub fn stats(&self) -> BlockStats {
        *lock(&self.blocks)
    }

    /// The lines renderers labelled `label` sent, in the order main's listener saw them.
    pub fn sends_from(&self, label: &str) -> Vec<String> {
        lock(&self.sends)
            .iter()
            .filter(|(_, from, _)| from == label)
            .map(|(_, _, line)| line.clone())
            .collect()
    }

    /// The id of the first renderer labelled `label` that called or sent anything (known even
    /// after it went away).
    pub fn caller_id(&self, label: &str) -> Option<RendererId> {
        lock(&self.callers)
            .iter()
            .find(|(_, seen)| seen == label)
            .map(|(id, _)| *id)
    }

    /// Waits until `done` holds (it is checked again after every change main records).
    pub async fn wait_for(&self, mut done: impl FnMut(&Self) -> bool) {
        let mut changes = self.changes.subscribe();
        while !done(self) {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Remembers who called.
    fn saw(&self, caller: &Caller) {
        let mut callers = lock(&self.callers);
        if !callers.iter().any(|(id, _)| *id == caller.renderer()) {
            callers.push((caller.renderer(), caller.label().to_string()));
            drop(callers);
            self.changed();
        }
    }

    fn update_blocks(&self, change: impl FnOnce(&mut BlockStats)) {
        change(&mut lock(&self.blocks));
        self.changed();
    }

    fn changed(&self) {
        self.changes.send_modify(|version| *version += 1);
    }
}

/// Counts a `block` handler as cancelled unless it finished.
struct BlockGuard {
    state: Arc<ConformanceState>,
    finished: bool,
}

impl Drop for BlockGuard {
    fn drop(&mut self) {
        let finished = self.finished;
        self.state.update_blocks(|stats| {
            stats.running -= 1;
            if finished {
                stats.completed += 1;
            } else {
                stats.cancelled += 1;
            }
        });
    }
}

/// The main-side implementation of [`Conformance`].
pub struct ConformanceBackend {
    state: Arc<ConformanceState>,
    main: Main,
}

impl ConformanceBackend {
    /// A backend for `main` (it emits events and shuts down through it) and the state it records
    /// into.
    pub fn new(main: &Main) -> (Self, Arc<ConformanceState>) {
        let state = Arc::new(ConformanceState::new());
        let backend = ConformanceBackend {
            state: state.clone(),
            main: main.clone(),
        };
        (backend, state)
    }

    /// Registers a new backend on `main` (declaring the contract); returns its state.
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] when `main` already handles the contract.
    pub fn serve(main: &Main) -> Result<(Arc<ConformanceState>, Registration), RegistryError> {
        let (backend, state) = ConformanceBackend::new(main);
        let registration = Conformance::handle(main, backend)?;
        Ok((state, registration))
    }
}

fn renderer_number(id: RendererId) -> u32 {
    u32::try_from(id.get()).unwrap_or(u32::MAX)
}

impl ConformanceHandler for ConformanceBackend {
    async fn echo(&self, caller: &Caller, sample: Sample) -> Sample {
        self.state.saw(caller);
        sample
    }

    async fn reverse_blobs(
        &self,
        caller: &Caller,
        blobs: Vec<ipc_runtime::Bytes>,
    ) -> Vec<ipc_runtime::Bytes> {
        self.state.saw(caller);
        blobs
            .into_iter()
            .rev()
            .map(|blob| blob.iter().rev().copied().collect::<Vec<u8>>().into())
            .collect()
    }

    async fn divide(&self, caller: &Caller, a: i32, b: i32) -> Result<i32, ConfError> {
        self.state.saw(caller);
        if b == 0 {
            return Err(ConfError::DivisionByZero { dividend: a });
        }
        match a.checked_div(b) {
            Some(quotient) => Ok(quotient),
            None => panic!("attempt to divide {a} by {b} with overflow"),
        }
    }

    async fn crash(&self, caller: &Caller, message: String) -> u32 {
        self.state.saw(caller);
        panic!("{message}")
    }

    async fn block(&self, caller: &Caller, tag: u32) -> u32 {
        self.state.saw(caller);
        self.state.update_blocks(|stats| {
            stats.started += 1;
            stats.running += 1;
        });
        let mut guard = BlockGuard {
            state: self.state.clone(),
            finished: false,
        };
        let permit = self.state.release.acquire().await.expect("never closed");
        permit.forget();
        guard.finished = true;
        tag
    }

    async fn release(&self, caller: &Caller, count: u32) {
        self.state.saw(caller);
        self.state.release.add_permits(count as usize);
    }

    async fn next(&self, caller: &Caller) -> u32 {
        self.state.saw(caller);
        let mut sequence = lock(&self.state.sequence);
        let next = sequence.entry(caller.renderer()).or_default();
        *next += 1;
        *next
    }

    async fn emit(&self, caller: &Caller, target: EmitTarget, first: u32, count: u32) -> u32 {
        self.state.saw(caller);
        let target = match target {
            EmitTarget::Caller => Target::from(caller),
            EmitTarget::All => Target::All,
            EmitTarget::Renderer { id } => {
                Target::filter(move |c| renderer_number(c.renderer()) == id)
            }
            EmitTarget::Label { label } => Target::filter(move |c| c.label() == label),
        };
        let events = Conformance::events(&self.main);
        let mut reached = 0;
        for value in first..first.saturating_add(count) {
            events.pair(target.clone(), value, caller.label().to_string());
            reached = events.tick(target.clone(), value);
            events.pulse(target.clone());
        }
        u32::try_from(reached).unwrap_or(u32::MAX)
    }

    async fn whoami(&self, caller: &Caller) -> CallerInfo {
        self.state.saw(caller);
        CallerInfo {
            id: renderer_number(caller.renderer()),
            label: caller.label().to_string(),
        }
    }

    async fn stats(&self, caller: &Caller) -> BlockStats {
        self.state.saw(caller);
        self.state.stats()
    }

    async fn wait_running(&self, caller: &Caller, count: u32) -> BlockStats {
        self.state.saw(caller);
        self.state.wait_for(|s| s.stats().running >= count).await;
        self.state.stats()
    }

    async fn wait_cancelled(&self, caller: &Caller, count: u32) -> BlockStats {
        self.state.saw(caller);
        self.state.wait_for(|s| s.stats().cancelled >= count).await;
        self.state.stats()
    }

    async fn sends_received(&self, caller: &Caller, at_least: u32) -> Vec<String> {
        self.state.saw(caller);
        let id = caller.renderer();
        let lines = |state: &ConformanceState| -> Vec<String> {
            lock(&state.sends)
                .iter()
                .filter(|(from, _, _)| *from == id)
                .map(|(_, _, line)| line.clone())
                .collect()
        };
        self.state
            .wait_for(|s| lines(s).len() >= at_least as usize)
            .await;
        lines(&self.state)
    }

    async fn shutdown_main(&self, caller: &Caller) {
        self.state.saw(caller);
        self.main.shutdown();
    }

    async fn note(&self, caller: &Caller, line: String) {
        self.state.saw(caller);
        if line.starts_with("slow ") {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        lock(&self.state.sends).push((caller.renderer(), caller.label().to_string(), line));
        self.state.changed();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a renderer peer does while the test, as main, watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Starts a `block` call and waits for it forever (until the test kills the peer).
    Hang,
    /// Starts a `block` call, waits until it runs on main, then exits while it is in flight.
    ExitMidCall,
    /// Makes one call, then drops its connection and lingers (until the test kills the peer).
    DropAndLinger,
    /// Sends `slow 0` to `slow 199`, then drops its connection and lingers (until the test kills
    /// the peer).
    SendAndLeave,
    /// Subscribes to `tick`, sends `ready`, collects ticks until [`END_OF_TICKS`], sends
    /// `got <n>` for each and `done`, then waits until main disconnects it.
    Events,
}

impl Scenario {
    /// The scenario's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Hang => "hang",
            Scenario::ExitMidCall => "exit-mid-call",
            Scenario::DropAndLinger => "drop-and-linger",
            Scenario::SendAndLeave => "send-and-leave",
            Scenario::Events => "events",
        }
    }

    /// The scenario with this command-line name.
    pub fn from_name(name: &str) -> Option<Scenario> {
        SCENARIOS.into_iter().find(|s| s.name() == name)
    }
}

/// Every scenario.
pub const SCENARIOS: [Scenario; 5] = [
    Scenario::Hang,
    Scenario::ExitMidCall,
    Scenario::DropAndLinger,
    Scenario::SendAndLeave,
    Scenario::Events,
];

/// Plays `scenario` on a connected renderer. `exit` is called where [`Scenario::ExitMidCall`]
/// goes away (a peer process exits there; an in-process peer returns, dropping everything).
///
/// # Errors
///
/// What went differently from the script.
pub async fn run_scenario(
    renderer: Renderer,
    scenario: Scenario,
    exit: impl FnOnce(),
) -> Result<(), String> {
    let client = Conformance::client(&renderer);
    match scenario {
        Scenario::Hang => {
            let result = client.block(1).no_timeout().await;
            Err(format!("the hanging call returned: {result:?}"))
        }
        Scenario::ExitMidCall => {
            let call = client.block(2).no_timeout().into_future();
            let running = client.wait_running(1).into_future();
            match select(call, running).await {
                Either::Left((result, _)) => Err(format!("the call returned: {result:?}")),
                Either::Right((Err(error), _)) => Err(format!("wait_running failed: {error}")),
                Either::Right((Ok(_), call)) => {
                    // The call is still in flight here.
                    exit();
                    drop(call);
                    Ok(())
                }
            }
        }
        Scenario::DropAndLinger => {
            client.next().await.map_err(|e| e.to_string())?;
            drop(client);
            drop(renderer);
            std::future::pending::<()>().await;
            Ok(())
        }
        Scenario::SendAndLeave => {
            for i in 0..200 {
                client
                    .note(format!("slow {i}"))
                    .map_err(|e| e.to_string())?;
            }
            drop(client);
            drop(renderer);
            std::future::pending::<()>().await;
            Ok(())
        }
        Scenario::Events => {
            let mut ticks = client.on_tick();
            client.note("ready".into()).map_err(|e| e.to_string())?;
            let mut got = Vec::new();
            loop {
                match ticks.next().await {
                    Some(END_OF_TICKS) => break,
                    Some(value) => got.push(value),
                    None => return Err("the tick stream ended early".into()),
                }
            }
            for value in got {
                client
                    .note(format!("got {value}"))
                    .map_err(|e| e.to_string())?;
            }
            client.note("done".into()).map_err(|e| e.to_string())?;
            renderer.closed().await;
            Ok(())
        }
    }
}
