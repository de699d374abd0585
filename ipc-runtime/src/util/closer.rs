//! A close signal that carries its reason: whoever closes says why (once), and whoever watches
//! learns both that and why.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

pub(crate) struct Closer {
    token: CancellationToken,
    /// Set by [`Closer::close`]: read without the token's lock by a task that looks between
    /// events (a parent's cancellation is seen through the token only).
    closed_here: AtomicBool,
    reason: OnceLock<String>,
    /// The reason when the token was cancelled without one (a parent token: main shutting down).
    default_reason: &'static str,
}

impl Closer {
    /// A closer that also closes when `parent` is cancelled, with `default_reason`.
    pub(crate) fn child_of(parent: &CancellationToken, default_reason: &'static str) -> Self {
        Closer {
            token: parent.child_token(),
            closed_here: AtomicBool::new(false),
            reason: OnceLock::new(),
            default_reason,
        }
    }

    /// A closer of its own.
    pub(crate) fn new(default_reason: &'static str) -> Self {
        Closer::child_of(&CancellationToken::new(), default_reason)
    }

    /// Closes with `reason` (the first reason given is the one that stays).
    pub(crate) fn close(&self, reason: impl Into<String>) {
        let _ = self.reason.set(reason.into());
        self.closed_here.store(true, Ordering::Release);
        self.token.cancel();
    }

    /// Whether [`Closer::close`] was called: one load, no lock (a close through the parent
    /// token is not seen here; [`Closer::closed`] sees both).
    pub(crate) fn closed_here(&self) -> bool {
        self.closed_here.load(Ordering::Acquire)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Why it closed (the default reason when closed through its parent).
    pub(crate) fn reason(&self) -> &str {
        self.reason
            .get()
            .map_or(self.default_reason, String::as_str)
    }

    /// Resolves once closed.
    pub(crate) fn closed(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }

    /// The token under the closer (cancelled when it closes).
    pub(crate) fn token(&self) -> &CancellationToken {
        &self.token
    }
}
