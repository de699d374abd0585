//! A renderer's frames to main, written by whichever task gets there first.
//!
//! A caller whose call is the only one in flight writes and flushes its own frame: the
//! sequential call's path crosses no task. While other calls are in flight (their callers may be
//! about to post), frames are left to the writer task, which steps aside once so that a burst
//! shares one write. Only one task drives the stream's I/O at a time: callers touch it only while
//! the writer task is idle, so a waker the writer task registered is never replaced.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

use super::pending::PendingCalls;
use crate::transport::frames::Writer;
use crate::util::lock;
use crate::wire::FrameBytes;

/// One message's frames: usually one, several for a message longer than a frame (its chunks,
/// which go out back to back).
pub(crate) enum OutFrames {
    One(FrameBytes),
    Chunks(Vec<FrameBytes>),
}

impl OutFrames {
    pub(crate) fn new(mut frames: Vec<FrameBytes>) -> Self {
        match frames.len() {
            1 => OutFrames::One(frames.remove(0)),
            _ => OutFrames::Chunks(frames),
        }
    }
}

/// Why a message was not taken.
pub(crate) enum OutboxError {
    /// As many frames as the outbox holds wait already (only from `try_put`): the frames back.
    Full(OutFrames),
    /// The connection is gone.
    Closed,
}

/// The frames of one renderer connection on their way to main.
pub(crate) struct Outbox {
    state: Mutex<State>,
    /// Wakes the writer task: frames were left for it, or every renderer handle is gone.
    work: Notify,
    /// Wakes callers that wait for room.
    room: Notify,
    pending: Arc<PendingCalls>,
    capacity: usize,
}

struct State {
    /// `None` once writing failed or the connection was closed.
    sink: Option<Writer>,
    /// Frames left for the writer task, in order.
    queued: VecDeque<FrameBytes>,
    /// The writer task owns the writing (frames were left for it to write or flush).
    busy: bool,
    /// Every renderer handle is gone: the writer says goodbye and closes.
    closing: bool,
    /// A frame was left for the writer as one of several under way (a handle's calls): the
    /// writer steps aside once before writing, so that the others share the write.
    among_others: bool,
}

impl Outbox {
    /// An outbox writing to `sink`, holding up to `capacity` frames, and its writer task (which
    /// ends the stream with `goodbye` once every handle is dropped).
    pub(crate) fn start(
        sink: Writer,
        capacity: usize,
        pending: Arc<PendingCalls>,
        goodbye: Option<FrameBytes>,
    ) -> OutboxHandle {
        let outbox = Arc::new(Outbox {
            state: Mutex::new(State {
                sink: Some(sink),
                queued: VecDeque::new(),
                busy: false,
                closing: false,
                among_others: false,
            }),
            work: Notify::new(),
            room: Notify::new(),
            pending,
            capacity,
        });
        tokio::spawn(write_frames(outbox.clone(), goodbye));
        OutboxHandle(outbox)
    }

    /// Takes a message's frames, waiting for room.
    pub(crate) async fn put(&self, frame: OutFrames) -> Result<(), OutboxError> {
        let mut frame = frame;
        loop {
            match self.try_put(frame) {
                Err(OutboxError::Full(back)) => {
                    frame = back;
                    // Registered before looking again, so a wake-up in between is not lost.
                    let room = self.room.notified();
                    tokio::pin!(room);
                    room.as_mut().enable();
                    if lock(&self.state).queued.len() >= self.capacity {
                        room.await;
                    }
                }
                Err(OutboxError::Closed) => return Err(OutboxError::Closed),
                Ok(()) => return Ok(()),
            }
        }
    }

    /// Takes a message's frames without waiting. A chunked message goes in whole when there is
    /// room for one frame (its chunks are the message's own memory, not copies), always through
    /// the writer task.
    pub(crate) fn try_put(&self, frames: OutFrames) -> Result<(), OutboxError> {
        self.put_frames(frames, true, false)
    }

    /// Takes frames past the outbox's bound: for frames bounded elsewhere (port frames, within
    /// credits; replies to main's requests, one per request). `among_others`: the frame is one
    /// of several sent at once (a handle's calls from many tasks), left to the writer task,
    /// which lets them share one write, as it does for calls in flight.
    pub(crate) fn put_anyway(
        &self,
        frames: OutFrames,
        among_others: bool,
    ) -> Result<(), OutboxError> {
        self.put_frames(frames, false, among_others)
    }

    fn put_frames(
        &self,
        frames: OutFrames,
        bounded: bool,
        among_others: bool,
    ) -> Result<(), OutboxError> {
        let full = |queued: usize| bounded && queued >= self.capacity;
        let mut state = lock(&self.state);
        let state = &mut *state;
        state.among_others |= among_others;
        let Some(sink) = state.sink.as_mut() else {
            return Err(OutboxError::Closed);
        };
        let frame = match frames {
            OutFrames::One(frame) => frame,
            OutFrames::Chunks(chunks) => {
                if full(state.queued.len()) {
                    return Err(OutboxError::Full(OutFrames::Chunks(chunks)));
                }
                state.queued.extend(chunks);
                if !state.busy {
                    state.busy = true;
                    self.work.notify_one();
                }
                return Ok(());
            }
        };
        if state.busy {
            if full(state.queued.len()) {
                return Err(OutboxError::Full(OutFrames::One(frame)));
            }
            state.queued.push_back(frame);
            return Ok(());
        }
        // Alone in flight: write and flush it here, polled without a waker (whatever cannot be
        // done now is handed to the writer task, which polls again with its own). With others in
        // flight, leave it to the writer task, which batches.
        let mut cx = Context::from_waker(Waker::noop());
        let ready = if !among_others && self.pending.waiting() <= 1 {
            sink.as_mut().poll_ready(&mut cx)
        } else {
            Poll::Pending
        };
        match ready {
            Poll::Ready(Ok(())) => {
                let flushed = sink
                    .as_mut()
                    .start_send(frame)
                    .map(|()| sink.as_mut().poll_flush(&mut cx));
                match flushed {
                    Ok(Poll::Ready(Ok(()))) => return Ok(()),
                    // Written, not yet flushed: the writer task finishes it.
                    Ok(Poll::Pending) => {}
                    Ok(Poll::Ready(Err(_))) | Err(_) => {
                        state.sink = None;
                        return Err(OutboxError::Closed);
                    }
                }
            }
            Poll::Ready(Err(_)) => {
                state.sink = None;
                return Err(OutboxError::Closed);
            }
            Poll::Pending => state.queued.push_back(frame),
        }
        state.busy = true;
        self.work.notify_one();
        Ok(())
    }

    /// How many frames the outbox holds.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Writes what was left for the writer task and flushes, with the task's own waker.
    /// `false` when the stream failed.
    fn poll_write(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let Some(sink) = state.sink.as_mut() else {
            return Poll::Ready(false);
        };
        let taken = state.queued.len();
        while !state.queued.is_empty() {
            match sink.as_mut().poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return self.failed(state),
                Poll::Pending => return Poll::Pending,
            }
            let sent = state
                .queued
                .pop_front()
                .map(|frame| sink.as_mut().start_send(frame));
            if let Some(Err(_)) = sent {
                return self.failed(state);
            }
        }
        if taken > 0 {
            self.room.notify_waiters();
        }
        match sink.as_mut().poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                state.busy = false;
                Poll::Ready(true)
            }
            Poll::Ready(Err(_)) => self.failed(state),
            Poll::Pending => Poll::Pending,
        }
    }

    fn failed(&self, state: &mut State) -> Poll<bool> {
        state.sink = None;
        state.queued.clear();
        self.room.notify_waiters();
        Poll::Ready(false)
    }
}

/// A renderer's hold on its outbox: when the last one is dropped, the writer task says goodbye
/// and closes the stream.
pub(crate) struct OutboxHandle(Arc<Outbox>);

impl std::ops::Deref for OutboxHandle {
    type Target = Outbox;
    fn deref(&self) -> &Outbox {
        &self.0
    }
}

impl Drop for OutboxHandle {
    fn drop(&mut self) {
        lock(&self.0.state).closing = true;
        self.0.work.notify_one();
    }
}

/// Closes the outbox however the writer task ends (a panic included): callers then fail with
/// `Disconnected` at once instead of queuing frames nobody writes.
struct WriterExit(Arc<Outbox>);

impl Drop for WriterExit {
    fn drop(&mut self) {
        let mut state = lock(&self.0.state);
        if state.sink.is_some() && !state.closing {
            tracing::error!("the renderer's writer task ended early; the connection is closed");
        }
        state.sink = None;
        state.queued.clear();
        drop(state);
        self.0.room.notify_waiters();
    }
}

/// The writer task: writes and flushes what callers left for it, then, once every handle is
/// gone, says goodbye.
async fn write_frames(outbox: Arc<Outbox>, goodbye: Option<FrameBytes>) {
    let _exit = WriterExit(outbox.clone());
    loop {
        let work = outbox.work.notified();
        tokio::pin!(work);
        work.as_mut().enable();
        let (busy, closing, among_others) = {
            let mut state = lock(&outbox.state);
            let among_others = std::mem::take(&mut state.among_others);
            (state.busy, state.closing, among_others)
        };
        if !busy {
            if closing {
                break;
            }
            work.await;
            continue;
        }
        // Others may be about to post: step aside once so that their frames share this write.
        if among_others || outbox.pending.waiting() > 1 {
            tokio::task::yield_now().await;
        }
        if !std::future::poll_fn(|cx| outbox.poll_write(cx)).await {
            return;
        }
    }
    // Every handle was dropped. Say goodbye, because closing our end of the stream may not end
    // it for main (stdio: the pipes are duplicated file descriptors).
    let sink = lock(&outbox.state).sink.take();
    if let Some(mut sink) = sink {
        use futures_util::SinkExt;
        if let Some(goodbye) = goodbye {
            let _ = sink.send(goodbye).await;
        }
        let _ = sink.close().await;
    }
}
