//! A bounded queue that never drops silently: a value that does not fit leaves a count in its
//! place, which the receiver takes as a gap (as tokio's `broadcast` reports `Lagged`).
//!
//! One receiver, any number of senders. Values beyond `capacity` are counted, not stored: the
//! queue holds at most `capacity` values and one gap after each run of them, so its memory is
//! bounded whatever the senders do.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use super::lock;

/// What the receiver takes off the queue.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Entry<T> {
    Value(T),
    /// This many values were dropped here.
    Gap(u64),
}

/// What became of a pushed value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued.
    Queued,
    /// Full: counted in a gap.
    Counted,
    /// The receiver is gone (or the queue was closed): nothing was queued.
    Gone,
}

pub(crate) struct LagQueue<T> {
    state: Mutex<State<T>>,
    capacity: usize,
}

struct State<T> {
    entries: VecDeque<Entry<T>>,
    /// Values in `entries` (gaps do not count).
    values: usize,
    /// No more values will come (the receiver drains what is there, then sees the end).
    closed: bool,
    /// The receiver was dropped: values are not queued any more.
    receiver_gone: bool,
    waker: Option<Waker>,
}

impl<T> LagQueue<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        LagQueue {
            state: Mutex::new(State {
                entries: VecDeque::new(),
                values: 0,
                closed: false,
                receiver_gone: false,
                waker: None,
            }),
            capacity: capacity.max(1),
        }
    }

    /// Queues `value`, or counts it in a gap when the queue is full.
    pub(crate) fn push(&self, value: T) -> Pushed {
        let waker = {
            let mut state = lock(&self.state);
            if state.closed || state.receiver_gone {
                return Pushed::Gone;
            }
            if state.values >= self.capacity {
                add_gap(&mut state.entries, 1);
                return Pushed::Counted;
            }
            state.entries.push_back(Entry::Value(value));
            state.values += 1;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Pushed::Queued
    }

    /// Records that `missed` values were lost before reaching this queue (a gap upstream).
    pub(crate) fn push_gap(&self, missed: u64) {
        let waker = {
            let mut state = lock(&self.state);
            if state.closed || state.receiver_gone || missed == 0 {
                return;
            }
            add_gap(&mut state.entries, missed);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// No more values: the receiver takes what is queued, then sees the end.
    pub(crate) fn close(&self) {
        let waker = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The receiver is gone: later pushes are refused and what is queued is freed.
    pub(crate) fn drop_receiver(&self) {
        let mut state = lock(&self.state);
        state.receiver_gone = true;
        state.entries.clear();
        state.values = 0;
    }

    /// Whether the receiver is gone (senders forget such queues).
    pub(crate) fn is_abandoned(&self) -> bool {
        let state = lock(&self.state);
        state.receiver_gone || state.closed
    }

    /// The next entry; `None` once the queue is closed and empty.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<Entry<T>>> {
        let mut state = lock(&self.state);
        match state.entries.pop_front() {
            Some(entry) => {
                if matches!(entry, Entry::Value(_)) {
                    state.values -= 1;
                }
                Poll::Ready(Some(entry))
            }
            None if state.closed => Poll::Ready(None),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Adds `missed` to the gap at the back, or starts one there.
fn add_gap<T>(entries: &mut VecDeque<Entry<T>>, missed: u64) {
    match entries.back_mut() {
        Some(Entry::Gap(count)) => *count = count.saturating_add(missed),
        _ => entries.push_back(Entry::Gap(missed)),
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;

    fn drain<T>(queue: &LagQueue<T>) -> Vec<Entry<T>> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(entry)) = queue.poll_pop(&mut cx) {
            out.push(entry);
        }
        out
    }

    #[test]
    fn values_that_do_not_fit_become_one_gap_in_their_place() {
        let queue = LagQueue::new(2);
        assert_eq!(queue.push(1), Pushed::Queued);
        assert_eq!(queue.push(2), Pushed::Queued);
        assert_eq!(queue.push(3), Pushed::Counted);
        assert_eq!(queue.push(4), Pushed::Counted);
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(Some(Entry::Value(1))));
        assert_eq!(queue.push(5), Pushed::Queued);
        assert_eq!(
            drain(&queue),
            vec![Entry::Value(2), Entry::Gap(2), Entry::Value(5)]
        );
    }

    #[test]
    fn upstream_gaps_merge_and_close_ends_after_draining() {
        let queue = LagQueue::new(4);
        queue.push_gap(3);
        queue.push_gap(2);
        queue.push("a");
        queue.close();
        assert_eq!(queue.push("b"), Pushed::Gone);
        assert_eq!(drain(&queue), vec![Entry::Gap(5), Entry::Value("a")]);
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn memory_stays_bounded_under_any_flood() {
        let queue = LagQueue::new(8);
        for i in 0..100_000 {
            queue.push(i);
        }
        let entries = drain(&queue);
        assert_eq!(entries.len(), 9);
        assert_eq!(entries[8], Entry::Gap(100_000 - 8));
    }
}
