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
    entries: Mutex<BTreeMap<(Instant, u64), oneshot::Sender<()>>>,
    earlier: Notify,
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
            entries: Mutex::new(BTreeMap::new()),
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
        let earliest = {
            let mut entries = crate::renderer::lock(&self.entries);
            entries.insert(key, fire);
            entries.keys().next() == Some(&key)
        };
        if earliest {
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
            let next = crate::renderer::lock(&self.entries)
                .keys()
                .next()
                .map(|k| k.0);
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
        let mut entries = crate::renderer::lock(&self.entries);
        while let Some(entry) = entries.first_entry() {
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
        crate::renderer::lock(&self.deadlines.entries).remove(&self.key);
    }
}
