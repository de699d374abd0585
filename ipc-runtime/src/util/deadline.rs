//! Call deadlines without a timer per call.
//!
//! Arming a Tokio timer that is earlier than the timer driver's next wake-up makes it wake a
//! parked worker (an `eventfd` write), and with one timer per call that was the largest single
//! cost of a small call. Here every pending deadline of a connection sits in one ordered map and
//! one sweeper task sleeps until the earliest. Deadlines mostly arrive in increasing order (the
//! same default timeout from "now"), so a new call rarely moves the sweeper's wake-up.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

/// The pending deadlines of one connection.
pub(crate) struct Deadlines {
    state: Mutex<State>,
    earlier: Notify,
}

struct State {
    entries: BTreeMap<(Instant, u64), oneshot::Sender<()>>,
    wake: WakePlan<Instant>,
}

/// When a deadline sweeper wakes up: at the earliest deadline it knows of or, with none pending,
/// the shortest timeout seen so far ahead, so that a run of short calls (each done before the
/// sweeper ever sees it) never has to wake it. A sweeper that wakes twice in a row to find
/// nothing pending waits for the next deadline instead (an idle handle or connection does not
/// wake every `shortest` for as long as it lives; the next call pays one wake-up). Shared by
/// `Deadlines`, the renderer's `PendingCalls` and a capability handle's calls (which count time
/// differently: Tokio's clock, and the real one for the other two).
pub(crate) struct WakePlan<I> {
    /// When the sweeper will next wake up (`None`: it waits for a first deadline). A new
    /// deadline after it needs no wake-up: the sweeper re-arms for it when it gets there.
    armed: Option<I>,
    shortest: Option<Duration>,
    /// The last wake-up found nothing pending.
    idle: bool,
}

impl<I: Copy + Ord + std::ops::Add<Duration, Output = I>> WakePlan<I> {
    pub(crate) const fn new() -> Self {
        WakePlan {
            armed: None,
            shortest: None,
            idle: false,
        }
    }

    /// Notes a deadline at `at`, `limit` from now; whether the sweeper must wake to re-arm.
    pub(crate) fn note(&mut self, at: I, limit: Duration) -> bool {
        self.shortest = Some(self.shortest.map_or(limit, |s| s.min(limit)));
        self.armed.is_none_or(|armed| at < armed)
    }

    /// Arms the sweeper given the `earliest` pending deadline; when it is to wake up.
    pub(crate) fn arm(&mut self, earliest: Option<I>, now: I) -> Option<I> {
        self.armed = match earliest {
            Some(at) => {
                self.idle = false;
                Some(at)
            }
            None if self.idle => None,
            None => {
                self.idle = true;
                self.shortest.map(|s| now + s)
            }
        };
        self.armed
    }
}

/// A registered deadline: resolves when it passes; unregisters when dropped.
pub(crate) struct Deadline {
    deadlines: Arc<Deadlines>,
    key: (Instant, u64),
    expired: oneshot::Receiver<()>,
}

impl Deadlines {
    /// A deadline set and its sweeper, which ends when `stop` resolves.
    pub(crate) fn start(
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Arc<Deadlines> {
        let deadlines = Arc::new(Deadlines {
            state: Mutex::new(State {
                entries: BTreeMap::new(),
                wake: WakePlan::new(),
            }),
            earlier: Notify::new(),
        });
        let sweeper = deadlines.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = sweeper.sweep() => {}
                () = stop => {}
            }
        });
        deadlines
    }

    /// Registers a deadline `after` from now for call `id`.
    pub(crate) fn register(self: &Arc<Self>, id: u64, after: Duration) -> Deadline {
        let key = (Instant::now() + after, id);
        let (fire, expired) = oneshot::channel();
        let wake_sweeper = {
            let mut state = super::lock(&self.state);
            state.entries.insert(key, fire);
            state.wake.note(key.0, after)
        };
        if wake_sweeper {
            self.earlier.notify_one();
        }
        Deadline {
            deadlines: self.clone(),
            key,
            expired,
        }
    }

    async fn sweep(&self) {
        loop {
            let next = {
                let mut state = super::lock(&self.state);
                let earliest = state.entries.keys().next().map(|key| key.0);
                state.wake.arm(earliest, Instant::now())
            };
            match next {
                None => self.earlier.notified().await,
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => self.fire_due(),
                        () = self.earlier.notified() => {}
                    }
                }
            }
        }
    }

    fn fire_due(&self) {
        let now = Instant::now();
        let mut state = super::lock(&self.state);
        while let Some(entry) = state.entries.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let _ = entry.remove().send(());
        }
    }
}

impl Deadline {
    /// Resolves when the deadline passes.
    pub(crate) async fn expired(&mut self) {
        // A dropped sender means the sweeper stopped (the connection closed): never fire then;
        // the call fails with `Disconnected` on its own.
        if (&mut self.expired).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        // Closed first: dropping the sender of a receiver that is still open wakes the task
        // that last polled it, here the very task that is finishing with its deadline. That
        // spurious wake-up re-queued the task once per call (and, on a multi-thread runtime,
        // woke a second worker for it): a third of a small socket call's time.
        self.expired.close();
        super::lock(&self.deadlines.state).entries.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::WakePlan;
    use std::time::Duration;

    #[test]
    fn an_idle_sweeper_stops_waking_until_the_next_deadline() {
        let s = Duration::from_secs;
        let mut plan = WakePlan::<Duration>::new();
        // A first deadline wakes the sweeper, which arms for it.
        assert!(plan.note(s(30), s(30)));
        assert_eq!(plan.arm(Some(s(30)), s(0)), Some(s(30)));
        // Later deadlines need no wake-up.
        assert!(!plan.note(s(31), s(30)));
        // Nothing pending at a wake-up: once more a timeout ahead, then no more.
        assert_eq!(plan.arm(None, s(30)), Some(s(60)));
        assert_eq!(plan.arm(None, s(60)), None);
        // The next deadline wakes it again, and a pending one ends the idle spell.
        assert!(plan.note(s(100), s(30)));
        assert_eq!(plan.arm(Some(s(100)), s(70)), Some(s(100)));
        assert_eq!(plan.arm(None, s(100)), Some(s(130)));
    }
}
