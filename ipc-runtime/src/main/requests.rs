//! Requests from main to one renderer (`docs/PROTOCOL.md` §7.2): [`Main::request`] and the
//! [`Request`] future, and the requests each connection has in flight.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::Main;
use crate::caller::RendererId;
use crate::channel::InvokeChannel;
use crate::error::{CallError, IpcError};
use crate::limits::DEFAULT_CALL_TIMEOUT;
use crate::transport::mailbox::Mailbox;
use crate::transport::message::{
    CallResult, ChannelName, DecodeValue, Failure, ToRenderer, open_reply, take_unwired, take_value,
};
use crate::util::lock;
use crate::wire::Payload;
use crate::wire::time::Unwire;

/// The requests main has in flight on one connection (a bridge's windows share their bridge's).
#[derive(Default)]
pub(crate) struct PendingRequests {
    next_id: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// By id: the window behind a bridge it went to (`to`), and where its answer goes.
    waiting: HashMap<u64, (Option<u64>, oneshot::Sender<CallResult>)>,
    /// The connection is gone: why.
    closed: Option<String>,
}

impl PendingRequests {
    /// Registers a request; `Err` (the reason) when the connection is gone.
    fn begin(&self, to: Option<u64>) -> Result<(u64, oneshot::Receiver<CallResult>), String> {
        let mut state = lock(&self.state);
        if let Some(reason) = &state.closed {
            return Err(reason.clone());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (answer, answered) = oneshot::channel();
        state.waiting.insert(id, (to, answer));
        Ok((id, answered))
    }

    /// The renderer answered request `id` (ignored when main no longer waits for it).
    /// `false` when main never made a request with that id.
    pub(crate) fn complete(&self, id: u64, result: CallResult) -> bool {
        let answer = lock(&self.state).waiting.remove(&id);
        match answer {
            Some((_, answer)) => {
                let _ = answer.send(result);
                true
            }
            None => {
                tracing::debug!(id, "a reply to a request main no longer waits for");
                id != 0 && id <= self.next_id.load(Ordering::Relaxed)
            }
        }
    }

    fn forget(&self, id: u64) -> bool {
        lock(&self.state).waiting.remove(&id).is_some()
    }

    /// The connection ended: every request in flight fails with `reason`.
    pub(crate) fn close(&self, reason: &str) {
        let waiting = {
            let mut state = lock(&self.state);
            state.closed = Some(reason.to_string());
            std::mem::take(&mut state.waiting)
        };
        for (_, (_, answer)) in waiting {
            let _ = answer.send(Err(Failure::Ipc(IpcError::disconnected(
                reason.to_string(),
            ))));
        }
    }

    /// A window behind the bridge is gone (detached, or disconnected by main): its requests
    /// fail with `reason` now rather than at their deadlines.
    pub(crate) fn close_window(&self, window: u64, reason: &str) {
        let gone: Vec<_> = {
            let mut state = lock(&self.state);
            let ids: Vec<u64> = state
                .waiting
                .iter()
                .filter(|(_, (to, _))| *to == Some(window))
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| state.waiting.remove(&id))
                .collect()
        };
        for (_, answer) in gone {
            let _ = answer.send(Err(Failure::Ipc(IpcError::disconnected(
                reason.to_string(),
            ))));
        }
    }
}

/// A request from main to one renderer, in flight: await it for the renderer's answer. Dropping
/// it cancels the renderer's handler (a `cancel` goes to the renderer).
///
/// Created by [`Main::request`] and by the generated `{Trait}RendererClient`.
#[must_use = "a request does nothing unless awaited, and dropping it cancels it"]
pub struct Request<T, E = crate::Never> {
    state: RequestState,
    decode: DecodeValue<T>,
    types: PhantomData<fn() -> E>,
}

enum RequestState {
    /// Sent when first polled (as a renderer's invoke is), with its deadline by then.
    Unsent(Box<Unsent>),
    Waiting(Box<InFlight>),
    /// Failed before it went out (no such renderer, connection gone).
    Failed(Option<IpcError>),
    Done,
}

struct Unsent {
    renderer: RendererId,
    route: RequestRoute,
    channel: ChannelName,
    args: Payload,
    timeout: Duration,
}

impl Unsent {
    fn send(self) -> Result<InFlight, IpcError> {
        let Unsent {
            renderer,
            route,
            channel,
            args,
            timeout,
        } = self;
        let (id, answered) = route
            .requests
            .begin(route.to)
            .map_err(IpcError::disconnected)?;
        let sent = route.outgoing.push(ToRenderer::Invoke {
            id,
            channel: channel.clone(),
            args,
            timeout: Some(timeout),
            to: route.to,
        });
        if !sent {
            route.requests.forget(id);
            return Err(IpcError::disconnected(format!(
                "renderer {renderer} is disconnecting"
            )));
        }
        Ok(InFlight {
            id,
            channel,
            answered,
            requests: Arc::downgrade(&route.requests),
            outgoing: Arc::downgrade(&route.outgoing),
            to: route.to,
            timeout,
            deadline: None,
        })
    }
}

struct InFlight {
    id: u64,
    channel: ChannelName,
    answered: oneshot::Receiver<CallResult>,
    requests: Weak<PendingRequests>,
    outgoing: Weak<Mailbox>,
    /// The window behind a bridge the request went to.
    to: Option<u64>,
    timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl InFlight {
    /// Main no longer waits: the renderer is told to drop its handler.
    fn cancel(&self) {
        if let Some(requests) = self.requests.upgrade() {
            if requests.forget(self.id) {
                if let Some(outgoing) = self.outgoing.upgrade() {
                    outgoing.push(ToRenderer::Cancel {
                        id: self.id,
                        to: self.to,
                    });
                }
            }
        }
    }
}

impl<T, E> Request<T, E> {
    /// Fails the request after `timeout` (default 30 s) with [`IpcError::Timeout`], cancelling
    /// the renderer's handler.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        if let RequestState::Unsent(unsent) = &mut self.state {
            unsent.timeout = timeout;
        }
        self
    }

    /// The id main gave the request once it was sent (unique among its requests to that
    /// renderer).
    pub fn id(&self) -> Option<u64> {
        match &self.state {
            RequestState::Waiting(flight) => Some(flight.id),
            _ => None,
        }
    }
}

impl<W, E> Request<W, E> {
    /// The request of a method whose result the contract carries in a wire form (a time
    /// value), resolving to the value itself. Generated code calls it.
    #[doc(hidden)]
    pub fn unwired(self) -> Request<W::Value, E>
    where
        W: Unwire + DeserializeOwned + 'static,
    {
        let mut this = std::mem::ManuallyDrop::new(self);
        Request {
            state: std::mem::replace(&mut this.state, RequestState::Done),
            decode: take_unwired::<W>,
            types: PhantomData,
        }
    }
}

impl<T: 'static, E: DeserializeOwned + 'static> Future for Request<T, E> {
    type Output = Result<T, CallError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let RequestState::Unsent(_) = &self.state {
            let RequestState::Unsent(unsent) =
                std::mem::replace(&mut self.state, RequestState::Done)
            else {
                unreachable!("checked just above")
            };
            self.state = match unsent.send() {
                Ok(flight) => RequestState::Waiting(Box::new(flight)),
                Err(error) => RequestState::Failed(Some(error)),
            };
        }
        let decode = self.decode;
        let flight = match &mut self.state {
            RequestState::Done | RequestState::Unsent(_) => {
                panic!("a request polled after it completed")
            }
            RequestState::Failed(error) => {
                let error = error
                    .take()
                    .unwrap_or_else(|| IpcError::disconnected("failed"));
                self.state = RequestState::Done;
                return Poll::Ready(Err(CallError::Ipc(error)));
            }
            RequestState::Waiting(flight) => flight,
        };
        if let Poll::Ready(answer) = Pin::new(&mut flight.answered).poll(cx) {
            let result = answer.unwrap_or_else(|_| {
                Err(Failure::Ipc(IpcError::disconnected("the renderer is gone")))
            });
            let outcome = open_reply(&flight.channel, result, decode);
            self.state = RequestState::Done;
            return Poll::Ready(outcome);
        }
        let timeout = flight.timeout;
        let deadline = flight
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_ready() {
            flight.cancel();
            let channel = flight.channel.to_string();
            self.state = RequestState::Done;
            return Poll::Ready(Err(CallError::Ipc(IpcError::Timeout {
                channel,
                after: timeout,
            })));
        }
        Poll::Pending
    }
}

impl<T, E> Drop for Request<T, E> {
    fn drop(&mut self) {
        if let RequestState::Waiting(flight) = &self.state {
            flight.cancel();
        }
    }
}

impl<T, E> fmt::Debug for Request<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request").field("id", &self.id()).finish()
    }
}

/// What main needs to reach one renderer with a request.
pub(crate) struct RequestRoute {
    /// The renderer is a bridge's own connection (its windows answer requests, it does not).
    pub(crate) bridge: bool,
    pub(crate) requests: Arc<PendingRequests>,
    pub(crate) outgoing: Arc<Mailbox>,
    pub(crate) to: Option<u64>,
}

impl Main {
    /// Asks `renderer` to run its handler for `channel` (a request, `#[request]` in a contract)
    /// and returns its answer. The generated `{Trait}RendererClient` wraps this.
    ///
    /// The renderer handles it as main handles an invoke: the deadline (30 s unless
    /// [`Request::timeout`] says otherwise) applies on both sides, dropping the request cancels
    /// the handler, a panic in it fails this request only.
    ///
    /// # Errors
    ///
    /// The request resolves to [`CallError::App`] with the handler's error, or
    /// [`CallError::Ipc`]: `NoHandler` when the renderer has no handler for the channel (and at
    /// once for a bridge's own connection, which answers nothing itself: ask its windows),
    /// `Disconnected` when it is not connected (or goes away), `Timeout`, `HandlerPanicked`,
    /// `BadArguments`/`BadReply` when the two sides disagree on the types.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{InvokeChannel, Main, Never, RendererOptions};
    ///
    /// const CONFIRM: InvokeChannel<(String,), bool, Never> = InvokeChannel::new("app:confirm");
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// let renderer = main.connect_in_process(RendererOptions::new("window"));
    /// renderer.handle_request(CONFIRM, |(question,): (String,)| async move { Ok(question == "quit?") });
    /// assert_eq!(main.request(renderer.id(), CONFIRM, ("quit?".to_string(),)).await, Ok(true));
    /// # }
    /// ```
    pub fn request<A, T, E>(
        &self,
        renderer: RendererId,
        channel: InvokeChannel<A, T, E>,
        args: A,
    ) -> Request<T, E>
    where
        A: Serialize + Send + 'static,
        T: DeserializeOwned + 'static,
    {
        let failed = |error| Request {
            state: RequestState::Failed(Some(error)),
            decode: take_value::<T>,
            types: PhantomData,
        };
        let Some(route) = self.request_route(renderer) else {
            return failed(IpcError::disconnected(format!(
                "renderer {renderer} is not connected"
            )));
        };
        if route.bridge {
            // A bridge registers no handlers of its own: its windows do.
            return failed(IpcError::NoHandler {
                channel: channel.name().to_string(),
            });
        }
        Request {
            state: RequestState::Unsent(Box::new(Unsent {
                renderer,
                route,
                channel: ChannelName::Borrowed(channel.name()),
                args: Payload::value(args),
                timeout: DEFAULT_CALL_TIMEOUT,
            })),
            decode: take_value::<T>,
            types: PhantomData,
        }
    }
}
