//! A renderer's mailbox on main: what main sends one connection, in order, bounded.
//!
//! Replies and notices always go in (a renderer has at most `max_in_flight` replies pending, and
//! main stops reading from a renderer it cannot write to, so they are bounded already). An event
//! that finds the mailbox full is not queued: it is counted in a lag marker at the back, which
//! the renderer receives as a `lag` notice in the place of the events it missed. Markers merge,
//! so the mailbox holds at most `capacity` messages and one marker after each run of them.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use super::message::{ChannelName, ToRenderer};
use crate::util::lock;

/// What comes out of a mailbox.
#[derive(Debug)]
pub(crate) enum Mail {
    Message(ToRenderer),
    /// Events dropped here: per channel (and window, behind a bridge), how many.
    Lag(Vec<Missed>),
    /// Main disconnected one window behind this bridge connection.
    CloseWindow {
        window: u64,
        reason: String,
    },
}

/// Events of one channel (for one window, behind a bridge) that a renderer missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Missed {
    pub(crate) channel: ChannelName,
    pub(crate) to: Option<u64>,
    /// Windows every missed event was withheld from (a bridge's broadcast): the lag notice is
    /// withheld from them too. (A window only some of the events were withheld from hears of
    /// them all: a count too high, never an event's content.)
    pub(crate) except: Option<Box<[u64]>>,
    pub(crate) count: u64,
}

/// Whether an event went into the mailbox.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    Queued,
    /// The mailbox was full: the event was counted in a lag marker.
    Lagged,
    /// The connection is closing.
    Closed,
}

pub(crate) struct Mailbox {
    state: Mutex<State>,
    capacity: usize,
    /// Entries in `state.mail`, readable without the lock: the reader polls an empty mailbox
    /// after every frame it handles, and that must not take a lock.
    len: AtomicUsize,
    /// The reader's waker (set without the lock, woken after a push).
    reader: AtomicWaker,
}

struct State {
    mail: VecDeque<Mail>,
    /// Messages in `mail` (markers do not count).
    messages: usize,
    closed: bool,
}

impl Mailbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Mailbox {
            state: Mutex::new(State {
                mail: VecDeque::new(),
                messages: 0,
                closed: false,
            }),
            capacity: capacity.max(1),
            len: AtomicUsize::new(0),
            reader: AtomicWaker::new(),
        }
    }

    /// Queues an event, or counts it in a lag marker when the mailbox is full.
    pub(crate) fn push_event(&self, event: ToRenderer) -> Delivery {
        let mut state = lock(&self.state);
        if state.closed {
            return Delivery::Closed;
        }
        if state.messages >= self.capacity {
            let ToRenderer::Event {
                channel,
                to,
                except,
                ..
            } = event
            else {
                unreachable_event()
            };
            let before = state.mail.len();
            count_missed(&mut state.mail, channel, to, except);
            self.len
                .fetch_add(state.mail.len() - before, Ordering::Release);
            return Delivery::Lagged;
        }
        self.enqueue(state, Mail::Message(event));
        Delivery::Queued
    }

    /// Queues a message whatever the mailbox holds (replies, notices, goodbyes); `false` once the
    /// mailbox is closed.
    pub(crate) fn push(&self, message: ToRenderer) -> bool {
        let state = lock(&self.state);
        if state.closed {
            return false;
        }
        self.enqueue(state, Mail::Message(message));
        true
    }

    /// Queues `message` without waking the connection task: for that task itself, which looks
    /// at the mailbox again before it waits (waking it from its own poll would only queue it
    /// again, and wake an idle worker to steal it).
    pub(crate) fn push_quietly(&self, message: ToRenderer) -> bool {
        let mut state = lock(&self.state);
        if state.closed {
            return false;
        }
        state.messages += 1;
        state.mail.push_back(Mail::Message(message));
        self.len.fetch_add(1, Ordering::Release);
        true
    }

    /// Queues a control message for the connection task (never read by a renderer).
    pub(crate) fn push_control(&self, mail: Mail) -> bool {
        let state = lock(&self.state);
        if state.closed {
            return false;
        }
        self.enqueue(state, mail);
        true
    }

    fn enqueue(&self, mut state: std::sync::MutexGuard<'_, State>, mail: Mail) {
        if matches!(mail, Mail::Message(_)) {
            state.messages += 1;
        }
        state.mail.push_back(mail);
        self.len.fetch_add(1, Ordering::Release);
        drop(state);
        self.reader.wake();
    }

    /// Nothing more goes in; the reader takes what is there, then sees the end.
    pub(crate) fn close(&self) {
        lock(&self.state).closed = true;
        // Counted as an entry, so a reader that sees an empty mailbox looks under the lock.
        self.len.fetch_add(1, Ordering::Release);
        self.reader.wake();
    }

    /// Whether nothing waits in the mailbox.
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// The next mail; `None` once closed and empty.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Mail>> {
        if self.len.load(Ordering::Acquire) == 0 {
            self.reader.register(cx.waker());
            // Looked at again after registering, so a push in between is not missed.
            if self.len.load(Ordering::Acquire) == 0 {
                return Poll::Pending;
            }
        }
        let mut state = lock(&self.state);
        match state.mail.pop_front() {
            Some(mail) => {
                self.len.fetch_sub(1, Ordering::AcqRel);
                if matches!(mail, Mail::Message(_)) {
                    state.messages -= 1;
                }
                Poll::Ready(Some(mail))
            }
            None if state.closed => Poll::Ready(None),
            None => {
                self.reader.register(cx.waker());
                Poll::Pending
            }
        }
    }

    /// The next mail if there is one now.
    #[cfg(test)]
    pub(crate) fn try_next(&self) -> Option<Mail> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.poll_next(&mut cx) {
            Poll::Ready(mail) => mail,
            Poll::Pending => None,
        }
    }
}

#[track_caller]
fn unreachable_event() -> ! {
    unreachable!("push_event takes events only")
}

/// Counts one missed event in the marker at the back (starting one there if needed).
fn count_missed(
    mail: &mut VecDeque<Mail>,
    channel: ChannelName,
    to: Option<u64>,
    except: Option<Box<[u64]>>,
) {
    if !matches!(mail.back(), Some(Mail::Lag(_))) {
        mail.push_back(Mail::Lag(Vec::new()));
    }
    let Some(Mail::Lag(missed)) = mail.back_mut() else {
        return;
    };
    match missed
        .iter_mut()
        .find(|m| m.channel == channel && m.to == to)
    {
        Some(entry) => {
            entry.count = entry.count.saturating_add(1);
            if entry.except != except {
                entry.except = match (entry.except.take(), except) {
                    (Some(before), Some(now)) => Some(
                        before
                            .iter()
                            .copied()
                            .filter(|window| now.contains(window))
                            .collect(),
                    ),
                    _ => None,
                };
            }
        }
        None => missed.push(Missed {
            channel,
            to,
            except,
            count: 1,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::wire::Payload;

    fn event(channel: &'static str) -> ToRenderer {
        ToRenderer::Event {
            channel: Cow::Borrowed(channel),
            payload: Payload::shared(()),
            to: None,
            except: None,
        }
    }

    #[test]
    fn full_mailbox_counts_events_per_channel_in_one_marker_and_keeps_replies() {
        let mailbox = Mailbox::new(1);
        assert_eq!(mailbox.push_event(event("a")), Delivery::Queued);
        assert_eq!(mailbox.push_event(event("a")), Delivery::Lagged);
        assert_eq!(mailbox.push_event(event("b")), Delivery::Lagged);
        assert_eq!(mailbox.push_event(event("a")), Delivery::Lagged);
        assert!(mailbox.push(ToRenderer::Goodbye {
            reason: "x".into(),
            to: None
        }));
        assert!(matches!(mailbox.try_next(), Some(Mail::Message(_))));
        match mailbox.try_next() {
            Some(Mail::Lag(missed)) => {
                assert_eq!(missed.len(), 2);
                assert_eq!((missed[0].channel.as_ref(), missed[0].count), ("a", 2));
                assert_eq!((missed[1].channel.as_ref(), missed[1].count), ("b", 1));
            }
            other => panic!("expected a lag marker, got {other:?}"),
        }
        assert!(matches!(mailbox.try_next(), Some(Mail::Message(_))));
        assert!(mailbox.try_next().is_none());
    }

    #[test]
    fn a_lagged_broadcast_keeps_the_windows_every_missed_event_was_withheld_from() {
        let mailbox = Mailbox::new(1);
        let broadcast = |except: Option<&[u64]>| ToRenderer::Event {
            channel: Cow::Borrowed("a"),
            payload: Payload::shared(()),
            to: None,
            except: except.map(Into::into),
        };
        let lag = |mailbox: &Mailbox| match mailbox.try_next() {
            Some(Mail::Lag(missed)) => {
                assert_eq!(missed.len(), 1, "one count per channel, however many sets");
                (missed[0].except.clone(), missed[0].count)
            }
            other => panic!("expected a lag marker, got {other:?}"),
        };
        assert_eq!(mailbox.push_event(broadcast(None)), Delivery::Queued);
        assert_eq!(
            mailbox.push_event(broadcast(Some(&[6, 7]))),
            Delivery::Lagged
        );
        assert_eq!(mailbox.push_event(broadcast(Some(&[6]))), Delivery::Lagged);
        assert!(matches!(mailbox.try_next(), Some(Mail::Message(_))));
        // Window 7 was spared only one of the two: it is told.
        assert_eq!(lag(&mailbox), (Some(Box::from(&[6][..])), 2));
        // A missed event nobody was spared: everyone hears of all of them.
        assert_eq!(mailbox.push_event(broadcast(None)), Delivery::Queued);
        assert_eq!(mailbox.push_event(broadcast(Some(&[6]))), Delivery::Lagged);
        assert_eq!(mailbox.push_event(broadcast(None)), Delivery::Lagged);
        assert!(matches!(mailbox.try_next(), Some(Mail::Message(_))));
        assert_eq!(lag(&mailbox), (None, 2));
    }
}
