//! Main's heartbeat on one frame connection: after a quiet spell main pings the renderer, and it
//! closes the connection when nothing at all comes back in time. A dead peer (a machine that
//! went to sleep, a process stopped under a debugger, a half-open socket) and a peer that holds
//! a connection without ever speaking are both found.
//!
//! Any frame counts as a sign of life, so a busy connection is never pinged. Frames are counted,
//! not timed: reading the clock for every frame would cost the hot path; instead the alarm (the
//! shared alarm thread, no Tokio timer) looks every `interval` whether the count moved. A
//! renderer is therefore pinged after between one and two intervals of silence.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::util::alarm::{self, Bell};

/// What the heartbeat asks of the connection.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Send the renderer this ping.
    Ping(u64),
    /// Nothing came within the timeout after a ping: close the connection with this reason.
    Silent(String),
}

pub(crate) struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    /// Rung by the alarm thread; polled after every step of the connection (a few atomics).
    alarm: Arc<Bell>,
    /// Frames read from the renderer so far.
    heard: u64,
    /// `heard` when the alarm last rang.
    heard_at_last_look: u64,
    /// The ping that waits for a sign of life, if any.
    pinged: Option<u64>,
    next_ping: u64,
}

impl Heartbeat {
    /// Starts looking every `interval`; a ping unanswered for `timeout` ends the connection.
    pub(crate) fn start(interval: Duration, timeout: Duration) -> Self {
        let alarm = Arc::new(Bell::default());
        let ring = Arc::downgrade(&alarm);
        alarm::ring_at(Instant::now() + interval, ring);
        Heartbeat {
            interval,
            timeout,
            alarm,
            heard: 0,
            heard_at_last_look: 0,
            pinged: None,
            next_ping: 1,
        }
    }

    /// A frame came from the renderer.
    pub(crate) fn heard(&mut self) {
        self.heard = self.heard.wrapping_add(1);
    }

    fn rearm(&self, after: Duration) {
        let ring = Arc::downgrade(&self.alarm);
        alarm::ring_at(Instant::now() + after, ring);
    }

    /// `Ready` when the connection has to act: ping, or give up on a silent renderer.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Beat> {
        loop {
            if self.alarm.poll_rung(cx).is_pending() {
                return Poll::Pending;
            }
            if self.heard != self.heard_at_last_look {
                self.heard_at_last_look = self.heard;
                self.pinged = None;
                self.rearm(self.interval);
                continue;
            }
            if self.pinged.is_some() {
                // The connection ends now: the alarm is not set again.
                return Poll::Ready(Beat::Silent(format!(
                    "no sign of life from the renderer within {:?} of a ping (silent for at \
                     least {:?})",
                    self.timeout,
                    self.interval + self.timeout
                )));
            }
            let id = self.next_ping;
            self.next_ping += 1;
            self.pinged = Some(id);
            self.rearm(self.timeout);
            return Poll::Ready(Beat::Ping(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn next(heartbeat: &mut Heartbeat) -> Beat {
        std::future::poll_fn(|cx| heartbeat.poll(cx)).await
    }

    #[tokio::test]
    async fn pings_a_silent_peer_then_gives_up() {
        let mut heartbeat = Heartbeat::start(Duration::from_millis(20), Duration::from_millis(20));
        let start = Instant::now();
        assert_eq!(next(&mut heartbeat).await, Beat::Ping(1));
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(matches!(next(&mut heartbeat).await, Beat::Silent(_)));
        assert!(start.elapsed() >= Duration::from_millis(40));
    }

    #[tokio::test]
    async fn an_answer_keeps_the_connection() {
        let mut heartbeat = Heartbeat::start(Duration::from_millis(20), Duration::from_millis(20));
        assert_eq!(next(&mut heartbeat).await, Beat::Ping(1));
        heartbeat.heard();
        // The next look finds the answer and waits another interval, then pings again.
        assert_eq!(next(&mut heartbeat).await, Beat::Ping(2));
    }

    #[tokio::test]
    async fn a_busy_peer_is_never_pinged() {
        let mut heartbeat = Heartbeat::start(Duration::from_millis(10), Duration::from_millis(10));
        let busy_until = Instant::now() + Duration::from_millis(100);
        let mut beats = Vec::new();
        while Instant::now() < busy_until {
            heartbeat.heard();
            let beat = tokio::time::timeout(Duration::from_millis(2), next(&mut heartbeat)).await;
            if let Ok(beat) = beat {
                beats.push(beat);
            }
        }
        assert_eq!(beats, Vec::new());
    }
}
