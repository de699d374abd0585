//! Call deadlines without a timer per call.
//!
//! Arming a Tokio timer that is earlier than the timer driver's next wake-up makes it wake a
//! parked worker (an `eventfd` write), and with one timer per call that was the largest single
//! cost of a small call. Here every pending deadline of a connection sits in one ordered map and
//! one sweeper task sleeps until the earliest. Deadlines mostly arrive in increasing order (the
//! same default timeout from "now"), so a new call rarely moves the sweeper's wake-up.
//!
//! A deadline either wakes a future ([`Deadlines::register`], for code that waits on the call
//! itself) or calls the set's expiry hook with the call's id ([`Deadlines::register_id`], for
//! calls whose reply arrives through a slot the hook can fail: no second channel, no `select!`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

/// What expiry does.
type OnExpiry = Box<dyn Fn(u64) + Send + Sync>;

/// The pending deadlines of one connection.
pub(crate) struct Deadlines {
    state: Mutex<State>,
    earlier: Notify,
    /// Called, outside the lock, with the id of each expired deadline from `register_id`.
    on_expiry: Option<OnExpiry>,
}

/// A deadline's entry: `Some` wakes a [`Deadline`], `None` calls the set's hook.
type Entry = Option<oneshot::Sender<()>>;

struct State {
    entries: BTreeMap<DeadlineKey, Entry>,
    /// When the sweeper will next wake up (`None`: it waits for a first deadline). A new
    /// deadline after it needs no wake-up: the sweeper re-arms for it when it gets there.
    armed: Option<Instant>,
    /// The shortest timeout registered so far. With nothing pending the sweeper still wakes
    /// that far ahead, so that a run of short calls (each done before the sweeper ever sees
    /// it) never has to wake it.
    shortest: Option<Duration>,
}

/// Names one registered deadline: when, and for which call.
pub(crate) type DeadlineKey = (Instant, u64);

/// A registered deadline: resolves when it passes; unregisters when dropped.
pub(crate) struct Deadline {
    deadlines: Arc<Deadlines>,
    key: DeadlineKey,
    expired: oneshot::Receiver<()>,
}

impl Deadlines {
    /// A deadline set and its sweeper, which ends when `stop` resolves. `on_expiry` is called
    /// with the id of each deadline from [`Deadlines::register_id`] that passes.
    pub(crate) fn start(
        stop: impl std::future::Future<Output = ()> + Send + 'static,
        on_expiry: Option<OnExpiry>,
    ) -> Arc<Deadlines> {
        let deadlines = Arc::new(Deadlines {
            state: Mutex::new(State {
                entries: BTreeMap::new(),
                armed: None,
                shortest: None,
            }),
            earlier: Notify::new(),
            on_expiry,
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

    /// Registers a deadline `after` from now for call `id`, as a future.
    pub(crate) fn register(self: &Arc<Self>, id: u64, after: Duration) -> Deadline {
        let (fire, expired) = oneshot::channel();
        let key = self.insert(id, after, Some(fire));
        Deadline {
            deadlines: self.clone(),
            key,
            expired,
        }
    }

    /// Registers a deadline `after` from now for call `id` that calls the expiry hook. Clear it
    /// with [`Deadlines::clear`] when the call ends first.
    pub(crate) fn register_id(&self, id: u64, after: Duration) -> DeadlineKey {
        self.insert(id, after, None)
    }

    /// Removes a deadline that has not passed (nothing happens if it has).
    pub(crate) fn clear(&self, key: DeadlineKey) {
        crate::renderer::lock(&self.state).entries.remove(&key);
    }

    fn insert(&self, id: u64, after: Duration, entry: Entry) -> DeadlineKey {
        let key = (Instant::now() + after, id);
        let wake_sweeper = {
            let mut state = crate::renderer::lock(&self.state);
            state.entries.insert(key, entry);
            state.shortest = Some(state.shortest.map_or(after, |s| s.min(after)));
            state.armed.is_none_or(|armed| key.0 < armed)
        };
        if wake_sweeper {
            self.earlier.notify_one();
        }
        key
    }

    async fn sweep(&self) {
        loop {
            let next = {
                let mut state = crate::renderer::lock(&self.state);
                let next = match state.entries.keys().next() {
                    Some(key) => Some(key.0),
                    None => state.shortest.map(|s| Instant::now() + s),
                };
                state.armed = next;
                next
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
        let mut hooked = Vec::new();
        {
            let mut state = crate::renderer::lock(&self.state);
            while let Some(entry) = state.entries.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let ((_, id), fire) = entry.remove_entry();
                match fire {
                    Some(fire) => {
                        let _ = fire.send(());
                    }
                    None => hooked.push(id),
                }
            }
        }
        if let Some(on_expiry) = &self.on_expiry {
            for id in hooked {
                on_expiry(id);
            }
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
        self.deadlines.clear(self.key);
    }
}
