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

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use ipc_runtime::{
    CallError, Caller, Handle, IpcError, Main, Port, Registration, RegistryError, Renderer,
    RendererId, Stream, Target,
};
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

/// Time values of every crate the runtime supports, each where a contract may put one (docs/
/// PROTOCOL.md §4, "Time values"): they all cross in one form, exact to the nanosecond.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Times {
    /// A `std` timestamp (also before 1970).
    pub system: std::time::SystemTime,
    /// chrono's, in UTC.
    pub chrono: chrono::DateTime<chrono::Utc>,
    /// chrono's, with an offset (it arrives in UTC: the same instant).
    pub fixed: chrono::DateTime<chrono::FixedOffset>,
    /// time's, with an offset (it arrives in UTC).
    pub offset: time::OffsetDateTime,
    /// time's, in UTC.
    pub utc: time::UtcDateTime,
    /// jiff's.
    pub jiff: jiff::Timestamp,
    /// A duration of each crate.
    pub spans: (
        std::time::Duration,
        chrono::TimeDelta,
        time::Duration,
        jiff::SignedDuration,
    ),
    /// Timestamps in an optional list.
    pub history: Vec<Option<std::time::SystemTime>>,
    /// Timestamps in a map.
    pub by_name: std::collections::BTreeMap<String, std::time::SystemTime>,
}

impl Times {
    /// Every timestamp moved later by `by` (earlier when `back`); durations as they are.
    pub fn shifted(&self, by: std::time::Duration, back: bool) -> Times {
        let system = |at: std::time::SystemTime| {
            if back { at - by } else { at + by }
        };
        let chrono_by = chrono::TimeDelta::from_std(by).expect("a test duration");
        let jiff_by = jiff::SignedDuration::try_from(by).expect("a test duration");
        let (sign, chrono_by, jiff_by) = if back {
            (-1, -chrono_by, -jiff_by)
        } else {
            (1, chrono_by, jiff_by)
        };
        let time_by = time::Duration::try_from(by).expect("a test duration") * sign;
        Times {
            system: system(self.system),
            chrono: self.chrono + chrono_by,
            fixed: self.fixed + chrono_by,
            offset: self.offset + time_by,
            utc: self.utc + time_by,
            jiff: self.jiff.checked_add(jiff_by).expect("a test timestamp"),
            spans: self.spans,
            history: self.history.iter().map(|at| at.map(system)).collect(),
            by_name: self
                .by_name
                .iter()
                .map(|(name, at)| (name.clone(), system(*at)))
                .collect(),
        }
    }
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

/// What the `endless` producers on main did.
#[ipc_runtime::data]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StreamStats {
    /// Items the producers made (taken from them to be sent).
    pub produced: u32,
    /// Producers dropped before they ended (their consumer cancelled or went away).
    pub stopped: u32,
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

/// What main's `heavy` listener saw of one send.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeavyInfo {
    /// The length of the sample's text.
    pub text_len: u32,
    /// How many items the sample had.
    pub items: u32,
    /// The blob's length.
    pub blob_len: u32,
    /// A checksum of the text, the items and the blob (see [`heavy_checksum`]).
    pub checksum: u32,
}

/// The checksum `heavy` records (FNV-1a over the text, the items and the blob).
pub fn heavy_checksum(sample: &Sample, blob: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let items = sample.items.iter().flat_map(|i| i.to_le_bytes());
    for byte in sample.text.bytes().chain(items).chain(blob.iter().copied()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The sample `emit_bulk` sends: a text of `len` bytes, a list of `len / 4` items.
pub fn bulk_sample(len: usize) -> Sample {
    Sample {
        text: (0..len)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect(),
        number: len as i32,
        items: (0..len / 4).map(|i| i as u32).collect(),
        note: None,
    }
}

/// A counter object main hands out (a capability: reached through a `Handle<Counter>`).
#[ipc_runtime::channels(namespace = "counter", capability)]
pub trait Counter {
    /// Adds `by`; returns the new value.
    async fn add(&self, by: i32) -> i32;
    /// The value now; `DivisionByZero` (as a stand-in application error) when it is negative.
    async fn get(&self) -> Result<i32, ConfError>;
    /// Never answers (a call to cancel); main counts the ones dropped.
    async fn stall(&self) -> u32;
    /// Panics with `message`.
    async fn explode(&self, message: String) -> u32;
}

/// A sink a renderer serves and hands to main, which calls it back.
#[ipc_runtime::channels(namespace = "sink", capability)]
pub trait Sink {
    /// Takes `value`; returns the total so far.
    async fn push(&self, value: u32) -> u32;
}

/// What main's counters did so far ([`ConformanceClient::counter_stats`]).
#[ipc_runtime::data]
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CounterStats {
    /// Counters handed out.
    pub created: u32,
    /// Counters still alive (not yet released by their holder).
    pub live: u32,
    /// `stall` calls whose handler was dropped (cancelled).
    pub stalls_cancelled: u32,
}

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
    /// `divide`, as a sync call (the caller blocks until the answer).
    #[sync(timeout_ms = 2000)]
    async fn divide_now(&self, a: i32, b: i32) -> Result<i32, ConfError>;
    /// `block`, as a sync call with a 200 ms deadline: past it the caller gets `timeout` and main
    /// drops the handler (counted as `block`'s are).
    #[sync(timeout_ms = 200)]
    async fn block_now(&self, tag: u32) -> u32;
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
    /// Waits until main has entered its listener for at least `at_least` `note` sends from the
    /// caller; returns every line the caller sent, in the order main entered the listener.
    async fn sends_received(&self, at_least: u32) -> Vec<String>;
    /// Shuts main down (`Main::shutdown`): every renderer is disconnected, this caller included,
    /// so the reply to this call may never arrive.
    async fn shutdown_main(&self);
    /// Records a line (fire-and-forget) as soon as the listener is entered; a line starting with
    /// `slow ` then takes a millisecond before the listener finishes.
    #[send]
    fn note(&self, line: String);
    /// Records `n` as soon as the handler is entered and returns it.
    async fn mark(&self, n: u32) -> u32;
    /// Records `n` as soon as the listener is entered (fire-and-forget).
    #[send]
    fn mark_send(&self, n: u32);
    /// Waits until main has entered `mark` and `mark_send` at least `at_least` times for the
    /// caller; returns the numbers in the order they were entered.
    async fn marks(&self, at_least: u32) -> Vec<u32>;
    /// Waits a moment (an `.await` that is pending), then panics with `message`.
    async fn crash_later(&self, message: String) -> u32;
    /// Records what arrived (sizes and a checksum): large payloads by send.
    #[send]
    fn heavy(&self, sample: Sample, blob: ipc_runtime::Bytes);
    /// Waits until main has handled at least `at_least` `heavy` sends from the caller; returns
    /// what it saw of each, in order.
    async fn heavy_received(&self, at_least: u32) -> Vec<HeavyInfo>;
    /// Emits `bulk` to the caller with a sample whose text is `len` bytes long, then returns the
    /// same sample (a large event, then a large reply).
    async fn emit_bulk(&self, len: u32) -> Sample;
    /// `count` numbers from `first`, as a stream; ends with `DivisionByZero { dividend: n }`
    /// right after the `fail_after`th item when that is given.
    async fn numbers(
        &self,
        first: u32,
        count: u32,
        fail_after: Option<u32>,
    ) -> Stream<u32, ConfError>;
    /// Numbers from 0 as fast as the consumer takes them, until it cancels; main counts what
    /// the producer made and whether it was stopped (`stream_stats`).
    async fn endless(&self) -> Stream<u32>;
    /// What the `endless` producers did so far.
    async fn stream_stats(&self) -> StreamStats;
    /// Sums an upload; the upload's own error ends the call with it.
    async fn sum(&self, items: Stream<u32, ConfError>) -> Result<u32, ConfError>;
    /// A port on which main answers each message with it upper-cased; a message `"close"`
    /// makes main close the port.
    async fn echo_port(&self) -> Port<String, String>;
    /// A port on which main sends `count` numbers at once, then closes it: they wait for the
    /// renderer to read them, within the port's window.
    async fn burst(&self, count: u32) -> Port<(), u32>;
    /// Introduces the caller to the renderer labelled `other`: each gets one end of a port pair
    /// (a `paired` event); returns whether `other` is connected.
    async fn pair_with(&self, other: String) -> bool;
    /// One end of a port pair main made (see `pair_with`).
    #[event]
    fn paired(&self, peer: Port<String, String>);
    /// Main asks the caller `question(n)` and reports the answer, or the error's code.
    async fn ask_me(&self, n: u32, timeout_ms: u32) -> Result<u32, String>;
    /// Main's request: the renderer answers `2 * n`, or `DivisionByZero` for 0.
    #[request]
    async fn question(&self, n: u32) -> Result<u32, ConfError>;
    /// Main's request that the renderer never answers (main's deadline cancels it).
    #[request]
    async fn hang(&self) -> u32;
    /// Main asks the caller `hang()` with a deadline of `timeout_ms` and reports the error's
    /// code.
    async fn ask_me_to_hang(&self, timeout_ms: u32) -> String;
    /// `times` shifted by `by` (`Times::shifted`), also emitted to the caller as a `moment`.
    async fn shift_times(&self, times: Times, by: std::time::Duration, back: bool) -> Times;
    /// `at` moved later by `by`, as a sync call.
    #[sync(timeout_ms = 2000)]
    async fn later_now(
        &self,
        at: std::time::SystemTime,
        by: std::time::Duration,
    ) -> std::time::SystemTime;
    /// Main asks the caller `clock(at)` and reports the answer, or the error's code.
    async fn ask_clock(
        &self,
        at: std::time::SystemTime,
    ) -> Result<Option<std::time::SystemTime>, String>;
    /// Main's request: the renderer answers with `at` one second later.
    #[request]
    async fn clock(&self, at: std::time::SystemTime) -> Option<std::time::SystemTime>;
    /// A new counter object starting at `start`.
    async fn counter(&self, start: i32) -> ipc_runtime::Handle<Counter>;
    /// What the counters did so far.
    async fn counter_stats(&self) -> CounterStats;
    /// Waits until at most `live` counters are alive; returns the statistics then.
    async fn wait_counters(&self, live: u32) -> CounterStats;
    /// Revokes every counter handed out so far; returns how many were live.
    async fn revoke_counters(&self, reason: String) -> u32;
    /// Pushes 1..=`count` into the caller's `sink`; returns the sink's last total.
    async fn fill_sink(&self, sink: ipc_runtime::Handle<Sink>, count: u32) -> Result<u32, String>;
    /// Hands `counter` to the renderer labelled `to` (a `counter_given` event); returns whether
    /// that renderer is connected.
    async fn give_counter(&self, counter: ipc_runtime::Handle<Counter>, to: String) -> bool;
    /// A counter handed over by another renderer (see `give_counter`).
    #[event]
    fn counter_given(&self, counter: ipc_runtime::Handle<Counter>);
    /// What `shift_times` returned, and its system timestamp alone.
    #[event]
    fn moment(&self, at: std::time::SystemTime, times: Times);
    /// A large event.
    #[event]
    fn bulk(&self, sample: Sample);
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
    marks: Mutex<HashMap<RendererId, Vec<u32>>>,
    heavy: Mutex<HashMap<RendererId, Vec<HeavyInfo>>>,
    /// `slow` sends whose listener ran to its end, by label.
    slow_finished: Mutex<HashMap<String, u32>>,
    sequence: Mutex<HashMap<RendererId, u32>>,
    callers: Mutex<Vec<(RendererId, String)>>,
    release: Semaphore,
    changes: watch::Sender<u64>,
    streams: Mutex<StreamStats>,
    counters: Arc<Mutex<CounterStats>>,
    revokers: Mutex<Vec<ipc_runtime::Revoker>>,
}

impl ConformanceState {
    fn new() -> Self {
        ConformanceState {
            blocks: Mutex::new(BlockStats::default()),
            sends: Mutex::new(Vec::new()),
            marks: Mutex::new(HashMap::new()),
            heavy: Mutex::new(HashMap::new()),
            slow_finished: Mutex::new(HashMap::new()),
            sequence: Mutex::new(HashMap::new()),
            callers: Mutex::new(Vec::new()),
            release: Semaphore::new(0),
            changes: watch::Sender::new(0),
            streams: Mutex::new(StreamStats::default()),
            counters: Arc::default(),
            revokers: Mutex::new(Vec::new()),
        }
    }

    /// What the counters (capabilities main hands out) did so far.
    pub fn counter_stats(&self) -> CounterStats {
        lock_stats(&self.counters).clone()
    }

    /// The `block` statistics now.
    pub fn stats(&self) -> BlockStats {
        *lock(&self.blocks)
    }

    /// What the `endless` producers did so far.
    pub fn stream_stats(&self) -> StreamStats {
        *lock(&self.streams)
    }

    fn update_streams(&self, change: impl FnOnce(&mut StreamStats)) {
        change(&mut lock(&self.streams));
        self.changed();
    }

    /// The lines renderers labelled `label` sent, in the order main entered its listener.
    pub fn sends_from(&self, label: &str) -> Vec<String> {
        lock(&self.sends)
            .iter()
            .filter(|(_, from, _)| from == label)
            .map(|(_, _, line)| line.clone())
            .collect()
    }

    /// How many `slow` sends of renderers labelled `label` ran their listener to its end.
    pub fn slow_finished(&self, label: &str) -> u32 {
        lock(&self.slow_finished).get(label).copied().unwrap_or(0)
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

    fn record_mark(&self, caller: &Caller, n: u32) {
        lock(&self.marks)
            .entry(caller.renderer())
            .or_default()
            .push(n);
        self.changed();
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

/// One counter object of main's; it counts itself live until it is dropped (released).
struct CounterObject {
    value: Mutex<i32>,
    stats: Arc<Mutex<CounterStats>>,
}

impl Drop for CounterObject {
    fn drop(&mut self) {
        lock_stats(&self.stats).live -= 1;
    }
}

fn lock_stats(stats: &Mutex<CounterStats>) -> MutexGuard<'_, CounterStats> {
    stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Counts a `stall` handler dropped before it ends.
struct StallGuard(Arc<Mutex<CounterStats>>);

impl Drop for StallGuard {
    fn drop(&mut self) {
        lock_stats(&self.0).stalls_cancelled += 1;
    }
}

impl CounterHandler for CounterObject {
    async fn add(&self, by: i32) -> i32 {
        let mut value = self
            .value
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *value = value.saturating_add(by);
        *value
    }

    async fn get(&self) -> Result<i32, ConfError> {
        let value = *self
            .value
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if value < 0 {
            return Err(ConfError::DivisionByZero { dividend: value });
        }
        Ok(value)
    }

    async fn stall(&self) -> u32 {
        let _guard = StallGuard(self.stats.clone());
        std::future::pending::<()>().await;
        0
    }

    async fn explode(&self, message: String) -> u32 {
        panic!("{message}")
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

    async fn divide_now(&self, caller: &Caller, a: i32, b: i32) -> Result<i32, ConfError> {
        self.divide(caller, a, b).await
    }

    async fn block_now(&self, caller: &Caller, tag: u32) -> u32 {
        self.block(caller, tag).await
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

    async fn mark(&self, caller: &Caller, n: u32) -> u32 {
        self.state.record_mark(caller, n);
        n
    }

    async fn mark_send(&self, caller: &Caller, n: u32) {
        self.state.record_mark(caller, n);
    }

    async fn marks(&self, caller: &Caller, at_least: u32) -> Vec<u32> {
        let id = caller.renderer();
        let marks =
            |state: &ConformanceState| lock(&state.marks).get(&id).cloned().unwrap_or_default();
        self.state
            .wait_for(|s| marks(s).len() >= at_least as usize)
            .await;
        marks(&self.state)
    }

    async fn emit_bulk(&self, caller: &Caller, len: u32) -> Sample {
        self.state.saw(caller);
        let sample = bulk_sample(len as usize);
        Conformance::events(&self.main).bulk(caller, sample.clone());
        sample
    }

    async fn numbers(
        &self,
        caller: &Caller,
        first: u32,
        count: u32,
        fail_after: Option<u32>,
    ) -> Stream<u32, ConfError> {
        self.state.saw(caller);
        let items = (0..count).map_while(move |i| match fail_after {
            Some(limit) if i == limit => Some(Err(ConfError::DivisionByZero {
                dividend: (first + i) as i32,
            })),
            Some(limit) if i > limit => None,
            _ => Some(Ok(first + i)),
        });
        Stream::try_new(futures_util::stream::iter(items))
    }

    async fn endless(&self, caller: &Caller) -> Stream<u32> {
        self.state.saw(caller);
        /// Counts the producer as stopped when it is dropped (it never ends by itself).
        struct Producer {
            state: Arc<ConformanceState>,
            next: u32,
        }
        impl Drop for Producer {
            fn drop(&mut self) {
                self.state.update_streams(|stats| stats.stopped += 1);
            }
        }
        let producer = Producer {
            state: self.state.clone(),
            next: 0,
        };
        Stream::new(futures_util::stream::unfold(
            producer,
            |mut producer| async move {
                let item = producer.next;
                producer.next += 1;
                producer.state.update_streams(|stats| stats.produced += 1);
                Some((item, producer))
            },
        ))
    }

    async fn stream_stats(&self, caller: &Caller) -> StreamStats {
        self.state.saw(caller);
        self.state.stream_stats()
    }

    async fn sum(&self, caller: &Caller, items: Stream<u32, ConfError>) -> Result<u32, ConfError> {
        self.state.saw(caller);
        let mut items = items;
        let mut total = 0u32;
        while let Some(item) = items.next().await {
            match item {
                Ok(item) => total = total.wrapping_add(item),
                Err(CallError::App(error)) => return Err(error),
                Err(CallError::Ipc(error)) => panic!("the upload failed: {error}"),
            }
        }
        Ok(total)
    }

    async fn echo_port(&self, caller: &Caller) -> Port<String, String> {
        self.state.saw(caller);
        let (mine, theirs) = Port::<String, String>::pair();
        tokio::spawn(async move {
            while let Some(Ok(line)) = mine.recv().await {
                if line == "close" {
                    mine.close();
                    return;
                }
                if mine.send(line.to_uppercase()).await.is_err() {
                    return;
                }
            }
        });
        theirs
    }

    async fn burst(&self, caller: &Caller, count: u32) -> Port<(), u32> {
        self.state.saw(caller);
        let (mine, theirs) = Port::<u32, ()>::pair();
        tokio::spawn(async move {
            for n in 0..count {
                if mine.send(n).await.is_err() {
                    return;
                }
            }
            mine.close();
        });
        theirs
    }

    async fn pair_with(&self, caller: &Caller, other: String) -> bool {
        self.state.saw(caller);
        let Some(other) = self
            .main
            .renderers()
            .into_iter()
            .find(|c| c.label() == other)
        else {
            return false;
        };
        let (one, two) = Port::<String, String>::pair();
        let events = Conformance::events(&self.main);
        events.paired(Target::Renderer(caller.renderer()), one);
        events.paired(Target::Renderer(other.renderer()), two);
        true
    }

    async fn ask_me(&self, caller: &Caller, n: u32, timeout_ms: u32) -> Result<u32, String> {
        self.state.saw(caller);
        Conformance::renderer_client(&self.main, caller.renderer())
            .question(n)
            .timeout(std::time::Duration::from_millis(u64::from(timeout_ms)))
            .await
            .map_err(|error| match error {
                CallError::App(error) => format!("app: {error}"),
                CallError::Ipc(error) => error.code().to_string(),
            })
    }

    async fn ask_me_to_hang(&self, caller: &Caller, timeout_ms: u32) -> String {
        self.state.saw(caller);
        let asked = Conformance::renderer_client(&self.main, caller.renderer())
            .hang()
            .timeout(std::time::Duration::from_millis(u64::from(timeout_ms)))
            .await;
        match asked {
            Ok(n) => format!("answered {n}"),
            Err(CallError::App(never)) => match never {},
            Err(CallError::Ipc(error)) => error.code().to_string(),
        }
    }

    async fn shift_times(
        &self,
        caller: &Caller,
        times: Times,
        by: std::time::Duration,
        back: bool,
    ) -> Times {
        self.state.saw(caller);
        let shifted = times.shifted(by, back);
        Conformance::events(&self.main).moment(caller, shifted.system, shifted.clone());
        shifted
    }

    async fn later_now(
        &self,
        caller: &Caller,
        at: std::time::SystemTime,
        by: std::time::Duration,
    ) -> std::time::SystemTime {
        self.state.saw(caller);
        at + by
    }

    async fn ask_clock(
        &self,
        caller: &Caller,
        at: std::time::SystemTime,
    ) -> Result<Option<std::time::SystemTime>, String> {
        self.state.saw(caller);
        Conformance::renderer_client(&self.main, caller.renderer())
            .clock(at)
            .await
            .map_err(|error| match error {
                CallError::App(never) => match never {},
                CallError::Ipc(error) => error.code().to_string(),
            })
    }

    async fn counter(&self, caller: &Caller, start: i32) -> ipc_runtime::Handle<Counter> {
        self.state.saw(caller);
        {
            let mut stats = lock_stats(&self.state.counters);
            stats.created += 1;
            stats.live += 1;
        }
        let (handle, revoker) = Counter::serve_revocable(CounterObject {
            value: Mutex::new(start),
            stats: self.state.counters.clone(),
        });
        let mut revokers = lock(&self.state.revokers);
        revokers.retain(|revoker| !revoker.is_closed());
        revokers.push(revoker);
        handle
    }

    async fn counter_stats(&self, caller: &Caller) -> CounterStats {
        self.state.saw(caller);
        lock_stats(&self.state.counters).clone()
    }

    async fn wait_counters(&self, caller: &Caller, live: u32) -> CounterStats {
        self.state.saw(caller);
        loop {
            let stats = lock_stats(&self.state.counters).clone();
            if stats.live <= live {
                return stats;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    async fn revoke_counters(&self, caller: &Caller, reason: String) -> u32 {
        self.state.saw(caller);
        let live = lock_stats(&self.state.counters).live;
        for revoker in lock(&self.state.revokers).drain(..) {
            revoker.revoke(reason.clone());
        }
        live
    }

    async fn fill_sink(
        &self,
        caller: &Caller,
        sink: ipc_runtime::Handle<Sink>,
        count: u32,
    ) -> Result<u32, String> {
        self.state.saw(caller);
        let sink = sink.client();
        let mut total = 0;
        for value in 1..=count {
            total = sink
                .push(value)
                .await
                .map_err(|error| IpcError::from(error).code().to_string())?;
        }
        Ok(total)
    }

    async fn give_counter(
        &self,
        caller: &Caller,
        counter: ipc_runtime::Handle<Counter>,
        to: String,
    ) -> bool {
        self.state.saw(caller);
        // A handle goes to one renderer (as a port does).
        let Some(to) = self.main.renderers().into_iter().find(|c| c.label() == to) else {
            return false;
        };
        let reached =
            Conformance::events(&self.main).counter_given(Target::Renderer(to.renderer()), counter);
        reached > 0
    }

    async fn crash_later(&self, caller: &Caller, message: String) -> u32 {
        self.state.saw(caller);
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        panic!("{message}")
    }

    async fn heavy(&self, caller: &Caller, sample: Sample, blob: ipc_runtime::Bytes) {
        self.state.saw(caller);
        let info = HeavyInfo {
            text_len: sample.text.len() as u32,
            items: sample.items.len() as u32,
            blob_len: blob.len() as u32,
            checksum: heavy_checksum(&sample, &blob),
        };
        lock(&self.state.heavy)
            .entry(caller.renderer())
            .or_default()
            .push(info);
        self.state.changed();
    }

    async fn heavy_received(&self, caller: &Caller, at_least: u32) -> Vec<HeavyInfo> {
        let id = caller.renderer();
        let seen =
            |state: &ConformanceState| lock(&state.heavy).get(&id).cloned().unwrap_or_default();
        self.state
            .wait_for(|s| seen(s).len() >= at_least as usize)
            .await;
        seen(&self.state)
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
        let slow = line.starts_with("slow ");
        lock(&self.state.sends).push((caller.renderer(), caller.label().to_string(), line));
        self.state.changed();
        if slow {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            *lock(&self.state.slow_finished)
                .entry(caller.label().to_string())
                .or_default() += 1;
            self.state.changed();
        }
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
    /// Sends `hello`, then waits until main disconnects it (and exits cleanly).
    Hello,
    /// Prints `debug: about to print` to stdout (wrong on stdio, where stdout carries the
    /// protocol), then waits until main disconnects it.
    Print,
    /// Sends `heavy` with a 24 MiB blob again and again (chunked messages), until killed.
    HugeSends,
    /// Takes an `endless` stream and a port from main, reads three items, sends `streaming`,
    /// then holds both without reading (until the test kills the peer).
    Streaming,
    /// Calls every method of [`Guarded`] once and reports each outcome as a `note`
    /// ([`guarded_outcomes`]), then sends `guarded done` and waits until main disconnects it.
    Guarded,
    /// Takes [`HELD_COUNTERS`] counters from main and holds them (sends `holding` once it has
    /// them all), until the test kills the peer.
    Holding,
}

/// How many counters [`Scenario::Holding`] holds.
pub const HELD_COUNTERS: u32 = 1000;

impl Scenario {
    /// The scenario's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Hang => "hang",
            Scenario::ExitMidCall => "exit-mid-call",
            Scenario::DropAndLinger => "drop-and-linger",
            Scenario::SendAndLeave => "send-and-leave",
            Scenario::Events => "events",
            Scenario::Hello => "hello",
            Scenario::Print => "print",
            Scenario::HugeSends => "huge-sends",
            Scenario::Streaming => "streaming",
            Scenario::Guarded => "guarded",
            Scenario::Holding => "holding",
        }
    }

    /// The scenario with this command-line name.
    pub fn from_name(name: &str) -> Option<Scenario> {
        SCENARIOS.into_iter().find(|s| s.name() == name)
    }
}

/// Every scenario.
pub const SCENARIOS: [Scenario; 11] = [
    Scenario::Hang,
    Scenario::ExitMidCall,
    Scenario::DropAndLinger,
    Scenario::SendAndLeave,
    Scenario::Events,
    Scenario::Hello,
    Scenario::Print,
    Scenario::HugeSends,
    Scenario::Streaming,
    Scenario::Guarded,
    Scenario::Holding,
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
        Scenario::Holding => {
            let mut held = Vec::new();
            for start in 0..HELD_COUNTERS {
                held.push(
                    client
                        .counter(start as i32)
                        .await
                        .map_err(|e| e.to_string())?,
                );
            }
            client.note("holding".into()).map_err(|e| e.to_string())?;
            std::future::pending::<()>().await;
            drop(held);
            Ok(())
        }
        Scenario::Streaming => {
            let mut numbers = client.endless().await.map_err(|e| e.to_string())?;
            let port = client.echo_port().await.map_err(|e| e.to_string())?;
            for _ in 0..3 {
                numbers
                    .next()
                    .await
                    .ok_or("the stream ended")?
                    .map_err(|e| e.to_string())?;
            }
            client.note("streaming".into()).map_err(|e| e.to_string())?;
            std::future::pending::<()>().await;
            drop((numbers, port));
            Ok(())
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
                    Some(Ok(END_OF_TICKS)) => break,
                    Some(Ok(value)) => got.push(value),
                    Some(Err(error)) => return Err(format!("the tick stream lagged: {error}")),
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
        Scenario::Guarded => {
            let mut lines = guarded_outcomes(&renderer).await;
            lines.extend(guarded_desk_outcomes(&renderer).await);
            for line in lines {
                client.note(line).map_err(|e| e.to_string())?;
            }
            client
                .note("guarded done".into())
                .map_err(|e| e.to_string())?;
            renderer.closed().await;
            Ok(())
        }
        Scenario::Hello => {
            client.note("hello".into()).map_err(|e| e.to_string())?;
            renderer.closed().await;
            Ok(())
        }
        Scenario::Print => {
            println!("debug: about to print");
            renderer.closed().await;
            Ok(())
        }
        Scenario::HugeSends => {
            let blob: ipc_runtime::Bytes = vec![7u8; 24 << 20].into();
            let sample = bulk_sample(16);
            loop {
                match client.heavy(sample.clone(), blob.clone()) {
                    Ok(()) => tokio::task::yield_now().await,
                    // The way to main is full: wait for it to drain.
                    Err(IpcError::TooManyInFlight { .. }) => {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await
                    }
                    Err(error) => return Err(error.to_string()),
                }
            }
        }
    }
}

/// A contract with a rule of every kind, for the authorization tests (`tests/authorization.rs`)
/// and their peer process.
#[ipc_runtime::channels(namespace = "guarded")]
pub trait Guarded {
    /// No policy: whoever an endpoint admitted, except a window's subframe.
    async fn open(&self) -> u32;
    /// Native processes only.
    #[policy(native)]
    async fn native_only(&self) -> u32;
    /// Web pages on the WebSocket endpoint only.
    #[policy(page)]
    async fn pages_only(&self) -> u32;
    /// A window's main frame only.
    #[policy(window, main_frame)]
    async fn main_frame_only(&self) -> u32;
    /// The test origin only.
    #[policy(origin = "http://127.0.0.1:9")]
    async fn test_origin_only(&self) -> u32;
    /// Renderers holding the `admin` capability.
    #[policy(capability = "admin")]
    async fn admin(&self) -> u32;
    /// A send for `admin` holders.
    #[send]
    #[policy(capability = "admin")]
    fn audit(&self, line: String);
    /// An event for `admin` holders.
    #[event]
    #[policy(capability = "admin")]
    fn alert(&self, level: u32);
    /// A stream argument (a port) for `admin` holders.
    #[policy(capability = "admin")]
    async fn upload(&self, items: Stream<u32>) -> u32;
    /// A handle to a desk: an object whose methods carry the same rules, judged at each call
    /// against the handle's holder. Any renderer, a window's subframes included.
    #[policy(native)]
    #[policy(page)]
    #[policy(window)]
    async fn desk(&self) -> Handle<GuardedDesk>;
    /// A desk main hands a renderer of its own accord (an event to one renderer).
    #[event]
    fn desk_given(&self, desk: Handle<GuardedDesk>);
}

/// An object with a rule of every kind on its methods (`desk` of [`Guarded`]).
#[ipc_runtime::channels(namespace = "guarded_desk", capability)]
pub trait GuardedDesk {
    /// No policy: whoever holds the handle.
    async fn open(&self) -> u32;
    /// Native processes only.
    #[policy(native)]
    async fn native_only(&self) -> u32;
    /// Web pages on the WebSocket endpoint only.
    #[policy(page)]
    async fn pages_only(&self) -> u32;
    /// A window's main frame only.
    #[policy(window, main_frame)]
    async fn main_frame_only(&self) -> u32;
    /// The test origin only.
    #[policy(origin = "http://127.0.0.1:9")]
    async fn test_origin_only(&self) -> u32;
    /// Holders granted the `admin` capability (at the time of the call).
    #[policy(capability = "admin")]
    async fn admin(&self) -> u32;
}

/// The methods of [`Guarded`] that answer, in declaration order.
pub const GUARDED_INVOKES: [&str; 6] = [
    "open",
    "native_only",
    "pages_only",
    "main_frame_only",
    "test_origin_only",
    "admin",
];

/// Main's side of [`Guarded`]: counts how often each handler ran.
#[derive(Clone, Default)]
pub struct GuardedBackend {
    runs: Arc<Mutex<HashMap<&'static str, u32>>>,
}

impl GuardedBackend {
    /// How often the handler of `method` ran.
    pub fn runs(&self, method: &str) -> u32 {
        lock(&self.runs).get(method).copied().unwrap_or(0)
    }

    /// Runs of every handler together.
    pub fn total_runs(&self) -> u32 {
        lock(&self.runs).values().sum()
    }

    fn ran(&self, method: &'static str) -> u32 {
        let mut runs = lock(&self.runs);
        let count = runs.entry(method).or_default();
        *count += 1;
        *count
    }
}

impl GuardedHandler for GuardedBackend {
    async fn open(&self, _caller: &Caller) -> u32 {
        self.ran("open")
    }
    async fn native_only(&self, _caller: &Caller) -> u32 {
        self.ran("native_only")
    }
    async fn pages_only(&self, _caller: &Caller) -> u32 {
        self.ran("pages_only")
    }
    async fn main_frame_only(&self, _caller: &Caller) -> u32 {
        self.ran("main_frame_only")
    }
    async fn test_origin_only(&self, _caller: &Caller) -> u32 {
        self.ran("test_origin_only")
    }
    async fn admin(&self, _caller: &Caller) -> u32 {
        self.ran("admin")
    }
    async fn audit(&self, _caller: &Caller, _line: String) {
        self.ran("audit");
    }
    async fn upload(&self, _caller: &Caller, mut items: Stream<u32>) -> u32 {
        let mut sum = 0;
        while let Some(Ok(item)) = items.next().await {
            sum += item;
        }
        self.ran("upload");
        sum
    }
    async fn desk(&self, _caller: &Caller) -> Handle<GuardedDesk> {
        GuardedDesk::serve(self.clone())
    }
}

/// The desk's methods count their runs as `desk.<method>`.
impl GuardedDeskHandler for GuardedBackend {
    async fn open(&self) -> u32 {
        self.ran("desk.open")
    }
    async fn native_only(&self) -> u32 {
        self.ran("desk.native_only")
    }
    async fn pages_only(&self) -> u32 {
        self.ran("desk.pages_only")
    }
    async fn main_frame_only(&self) -> u32 {
        self.ran("desk.main_frame_only")
    }
    async fn test_origin_only(&self) -> u32 {
        self.ran("desk.test_origin_only")
    }
    async fn admin(&self) -> u32 {
        self.ran("desk.admin")
    }
}

/// Calls every invoke of [`Guarded`] once: `"<method> ok"` or `"<method> forbidden <rule>"`
/// (or another error's code) each.
pub async fn guarded_outcomes(renderer: &Renderer) -> Vec<String> {
    let client = Guarded::client(renderer);
    let mut lines = Vec::new();
    for method in GUARDED_INVOKES {
        let result = match method {
            "open" => client.open().await,
            "native_only" => client.native_only().await,
            "pages_only" => client.pages_only().await,
            "main_frame_only" => client.main_frame_only().await,
            "test_origin_only" => client.test_origin_only().await,
            _ => client.admin().await,
        };
        lines.push(outcome_line(method, result));
    }
    lines
}

/// `"<method> ok"`, `"<method> forbidden <rule>"`, or `"<method> <code>"` of another error.
fn outcome_line(method: &str, result: Result<u32, IpcError>) -> String {
    match result {
        Ok(_) => format!("{method} ok"),
        Err(IpcError::Forbidden { rule, .. }) => {
            format!("{method} forbidden {}", rule.unwrap_or_default())
        }
        Err(other) => format!("{method} {}", other.code()),
    }
}

/// Gets a desk (`desk` of [`Guarded`]) and calls each of its methods once through the handle:
/// `"desk.<method> ok"` or `"desk.<method> forbidden <rule>"` (or another error's code) each.
pub async fn guarded_desk_outcomes(renderer: &Renderer) -> Vec<String> {
    let desk = match Guarded::client(renderer).desk().await {
        Ok(handle) => handle.client(),
        Err(error) => return vec![format!("desk {}", error.code())],
    };
    let mut lines = Vec::new();
    for method in GUARDED_INVOKES {
        let result = match method {
            "open" => desk.open().await,
            "native_only" => desk.native_only().await,
            "pages_only" => desk.pages_only().await,
            "main_frame_only" => desk.main_frame_only().await,
            "test_origin_only" => desk.test_origin_only().await,
            _ => desk.admin().await,
        };
        lines.push(outcome_line(
            &format!("desk.{method}"),
            result.map_err(IpcError::from),
        ));
    }
    lines
}

/// The guide's examples (`docs/GUIDE.md`), compiled and run as doc tests of this (unpublished)
/// crate: the guide is not part of any published package.
#[doc = include_str!("../../docs/GUIDE.md")]
#[cfg(doctest)]
pub struct GuideDoctests;
