//! A renderer's calls that wait for their replies from main, and their deadlines.
//!
//! One map holds each call's reply slot and deadline. A call costs one insert and one remove
//! under one lock: no timer, no second map, no `select!`. A sweeper task fails the calls whose
//! deadline passed, sleeping until the earliest deadline it knows of (woken by the alarm
//! thread, `alarm`, not a Tokio timer: deadlines of calls across a connection run on real time). Deadlines mostly arrive in
//! increasing order (the same default timeout from "now"), so a new call rarely wakes it; when it
//! wakes for a call that has already finished, it looks at what is pending and sleeps again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, oneshot};

use crate::error::IpcError;
use crate::transport::message::{CallResult, ChannelName, Failure};
use crate::util::deadline::WakePlan;
use crate::util::lock;
use crate::util::own_ids::OwnIds;

/// The calls of one renderer connection that wait for a reply.
pub(crate) struct PendingCalls {
    state: Mutex<State>,
    /// Wakes the sweeper: its alarm rang, or a deadline is earlier than the one it sleeps until.
    wake: Arc<Notify>,
    /// How many calls wait (read without the lock: the writer batches while others wait).
    waiting: AtomicUsize,
}

struct State {
    calls: HashMap<u64, PendingCall, OwnIds>,
    /// The connection closed: no call can be answered any more.
    closed: bool,
    wake: WakePlan<Instant>,
}

struct PendingCall {
    reply: oneshot::Sender<CallResult>,
    channel: ChannelName,
    /// The call's timeout and when it passes.
    deadline: Option<(Duration, Instant)>,
}

impl Default for PendingCalls {
    fn default() -> Self {
        PendingCalls::new()
    }
}

impl PendingCalls {
    pub(crate) fn new() -> Self {
        PendingCalls {
            state: Mutex::new(State {
                calls: HashMap::default(),
                closed: false,
                wake: WakePlan::new(),
            }),
            wake: Arc::new(Notify::new()),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Registers call `id`, failing with `Timeout` after `timeout`. `None` once the connection
    /// has closed (no reply could come).
    pub(crate) fn insert(
        &self,
        id: u64,
        channel: ChannelName,
        timeout: Option<Duration>,
    ) -> Option<oneshot::Receiver<CallResult>> {
        let (reply, answer) = oneshot::channel();
        let deadline = timeout.map(|limit| (limit, Instant::now() + limit));
        let wake_sweeper = {
            let mut state = lock(&self.state);
            if state.closed {
                return None;
            }
            state.calls.insert(
                id,
                PendingCall {
                    reply,
                    channel,
                    deadline,
                },
            );
            // Counted under the lock, so the count never runs ahead of or behind the map.
            self.waiting.fetch_add(1, Ordering::Relaxed);
            deadline.is_some_and(|(limit, at)| state.wake.note(at, limit))
        };
        if wake_sweeper {
            self.wake.notify_one();
        }
        Some(answer)
    }

    /// Hands `result` to call `id`, if it still waits.
    pub(crate) fn complete(&self, id: u64, result: CallResult) {
        if let Some(call) = self.take(id) {
            let _ = call.reply.send(result);
        }
    }

    /// Forgets call `id` (its caller gave up).
    pub(crate) fn remove(&self, id: u64) {
        self.take(id);
    }

    fn take(&self, id: u64) -> Option<PendingCall> {
        let mut state = lock(&self.state);
        let call = state.calls.remove(&id);
        if call.is_some() {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        call
    }

    /// How many calls wait for a reply.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// The connection closed: drops every reply slot (each waiting call sees its slot closed)
    /// and refuses new calls.
    pub(crate) fn close(&self) {
        let calls = {
            let mut state = lock(&self.state);
            state.closed = true;
            self.waiting.store(0, Ordering::Relaxed);
            std::mem::take(&mut state.calls)
        };
        drop(calls);
    }

    /// Fails calls whose deadline passed, for as long as it runs.
    pub(crate) async fn sweep(&self) {
        // Not a Tokio timer: see `alarm`.
        crate::util::alarm::sweep(&self.wake, |now| {
            let (expired, next) = self.expired_and_next(now);
            for call in expired {
                let after = call.deadline.map(|(limit, _)| limit).unwrap_or_default();
                let _ = call.reply.send(Err(Failure::Ipc(IpcError::Timeout {
                    channel: call.channel.into_owned(),
                    after,
                })));
            }
            Some(next)
        })
        .await;
    }

    /// Takes the calls past their deadline at `now`; arms the sweeper for the next deadline.
    fn expired_and_next(&self, now: Instant) -> (Vec<PendingCall>, Option<Instant>) {
        let mut state = lock(&self.state);
        let due: Vec<u64> = state
            .calls
            .iter()
            .filter(|(_, call)| call.deadline.is_some_and(|(_, at)| at <= now))
            .map(|(&id, _)| id)
            .collect();
        let expired: Vec<PendingCall> =
            due.iter().filter_map(|id| state.calls.remove(id)).collect();
        self.waiting.fetch_sub(expired.len(), Ordering::Relaxed);
        let earliest = state
            .calls
            .values()
            .filter_map(|call| call.deadline.map(|(_, at)| at))
            .min();
        (expired, state.wake.arm(earliest, now))
    }
}
