//! Wake-ups at a given instant from one background thread, without a Tokio timer.
//!
//! While any Tokio timer is armed, every worker that parks waits in `epoll_wait` with a timeout
//! (the kernel sets up a high-resolution timer each time) and the time driver runs at every park.
//! A connection's deadline sweeper would keep a timer armed for as long as calls are made: that
//! was a twentieth of a small call over a Unix socket. The sweeper sleeps on a `Notify` instead,
//! and this thread rings it when its time comes. Alarms run on real time (not on Tokio's paused
//! test clock).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;

/// What an alarm rings.
pub(crate) trait Ring: Send + Sync {
    fn ring(&self);
}

impl Ring for Notify {
    /// Once, with `notify_one`.
    fn ring(&self) {
        self.notify_one();
    }
}

/// A flag and a waker: the cheapest thing to ring when the task that waits for it polls it
/// often (a `Notified` future takes a lock each time it is polled while waiting).
#[derive(Default)]
pub(crate) struct Bell {
    rung: AtomicBool,
    waker: AtomicWaker,
}

impl Bell {
    /// `Ready` once after each ring.
    pub(crate) fn poll_rung(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.rung.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.rung.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Ring for Bell {
    fn ring(&self) {
        self.rung.store(true, Ordering::Release);
        self.waker.wake();
    }
}

use super::lock;

struct Alarms {
    state: Mutex<State>,
    /// Wakes the thread for an alarm earlier than the one it sleeps until.
    earlier: Condvar,
}

struct State {
    /// Alarms by time; the `u64` tells apart alarms set for the same instant.
    queue: BTreeMap<(Instant, u64), Weak<dyn Ring>>,
    next_id: u64,
    /// When the thread wakes up next (`None`: it waits for a first alarm).
    wakes_at: Option<Instant>,
    running: bool,
}

static ALARMS: OnceLock<Alarms> = OnceLock::new();

/// Runs a deadline sweeper on real time: `look` fails what passed by the instant it is given
/// and says when to look next (`Some(None)`: nothing pending; `None`: its owner is gone, and the
/// sweeper ends). Between looks it sleeps on `wake`, which this thread rings at the next
/// instant, and which whoever notes an earlier deadline rings too.
pub(crate) async fn sweep(
    wake: &Arc<Notify>,
    mut look: impl FnMut(Instant) -> Option<Option<Instant>>,
) {
    while let Some(next) = look(Instant::now()) {
        if let Some(at) = next {
            ring_at(at, Arc::downgrade(wake));
        }
        wake.notified().await;
    }
}

/// Rings `notify` at `at`, unless it is dropped by then.
pub(crate) fn ring_at<R: Ring + 'static>(at: Instant, notify: Weak<R>) {
    let notify: Weak<dyn Ring> = notify;
    let alarms = ALARMS.get_or_init(|| Alarms {
        state: Mutex::new(State {
            queue: BTreeMap::new(),
            next_id: 0,
            wakes_at: None,
            running: false,
        }),
        earlier: Condvar::new(),
    });
    let mut state = lock(&alarms.state);
    let id = state.next_id;
    state.next_id += 1;
    state.queue.insert((at, id), notify);
    if !state.running {
        let started = std::thread::Builder::new()
            .name("ipc-runtime-alarms".into())
            .spawn(move || run(alarms));
        // Without the thread the alarm would never ring: ring now instead (the sweeper looks,
        // finds nothing due, and sets the alarm again: slow, but deadlines still work).
        if started.is_err() {
            tracing::error!("cannot start the alarm thread; deadlines are checked eagerly");
            if let Some(notify) = state.queue.remove(&(at, id)).and_then(|n| n.upgrade()) {
                notify.ring();
            }
            return;
        }
        state.running = true;
    } else if state.wakes_at.is_none_or(|wakes| at < wakes) {
        alarms.earlier.notify_one();
    }
}

fn run(alarms: &'static Alarms) {
    let mut state = lock(&alarms.state);
    loop {
        let now = Instant::now();
        while let Some(entry) = state.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            if let Some(notify) = entry.remove().upgrade() {
                notify.ring();
            }
        }
        let next = state.queue.keys().next().map(|&(at, _)| at);
        state.wakes_at = next;
        state = match next {
            None => alarms
                .earlier
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            Some(at) => {
                alarms
                    .earlier
                    .wait_timeout(state, at.saturating_duration_since(now))
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn rings_at_the_instant_in_order() {
        let late = Arc::new(Notify::new());
        let early = Arc::new(Notify::new());
        let start = Instant::now();
        ring_at(start + Duration::from_millis(60), Arc::downgrade(&late));
        ring_at(start + Duration::from_millis(20), Arc::downgrade(&early));
        early.notified().await;
        let early_at = start.elapsed();
        late.notified().await;
        let late_at = start.elapsed();
        assert!(early_at >= Duration::from_millis(20), "{early_at:?}");
        assert!(late_at >= Duration::from_millis(60), "{late_at:?}");
        assert!(early_at < late_at);
    }

    #[tokio::test]
    async fn a_dropped_notify_is_skipped() {
        let gone = Arc::new(Notify::new());
        let kept = Arc::new(Notify::new());
        let at = Instant::now() + Duration::from_millis(10);
        ring_at(at, Arc::downgrade(&gone));
        ring_at(at, Arc::downgrade(&kept));
        drop(gone);
        kept.notified().await;
    }
}
