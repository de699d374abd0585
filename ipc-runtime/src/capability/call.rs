//! One call through a handle, before and while it runs ([`HandleCall`]).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::error::CallError;
use crate::limits::DEFAULT_CALL_TIMEOUT;

/// One call through a [`Handle`](crate::Handle) (a generated client's method returns it). Await
/// it for `Result<T, CallError<E>>`: the same outcomes as an invoke's (the handler's `Err`, a
/// timeout, a panic, a revoked or released handle). Nothing is sent until it is awaited;
/// dropping it before the answer cancels the handler on the object's side.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ipc_runtime::{Caller, Handle, Main, RendererOptions};
///
/// #[ipc_runtime::channels(namespace = "counter", capability)]
/// pub trait Counter {
///     async fn add(&self, n: u32) -> u32;
/// }
///
/// #[ipc_runtime::channels(namespace = "app")]
/// pub trait App {
///     async fn counter(&self) -> Handle<Counter>;
/// }
///
/// struct Count;
/// impl CounterHandler for Count {
///     async fn add(&self, n: u32) -> u32 {
///         n + 1
///     }
/// }
///
/// struct Backend;
/// impl AppHandler for Backend {
///     async fn counter(&self, _caller: &Caller) -> Handle<Counter> {
///         Counter::serve(Count)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// let _app = App::handle(&main, Backend).unwrap();
/// let app = AppClient::new(main.connect_in_process(RendererOptions::new("ui")));
/// let counter = app.counter().await.unwrap().client();
/// // A `HandleCall`: its deadline can be set before it is awaited.
/// let call = counter.add(41).timeout(Duration::from_secs(5));
/// assert_eq!(call.await.unwrap(), 42);
/// # }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct HandleCall<T, E> {
    /// The call as it will run, with its deadline, in one allocation: the deadline is set on it
    /// (a boxed starter and then a boxed future cost one allocation more per call).
    call: Pin<Box<dyn TimedCall<T, E>>>,
    types: PhantomData<fn() -> (T, E)>,
}

/// The future a [`HandleCall`] becomes when awaited.
///
/// # Examples
///
/// ```
/// # use ipc_runtime::{HandleCall, HandleCallFuture};
/// # use std::future::IntoFuture;
/// fn started<T, E>(call: HandleCall<T, E>) -> HandleCallFuture<T, E> {
///     call.into_future()
/// }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct HandleCallFuture<T, E>(Pin<Box<dyn TimedCall<T, E>>>);

/// A call's future whose deadline can be set until it starts.
trait TimedCall<T, E>: Future<Output = Result<T, CallError<E>>> + Send {
    fn set_timeout(self: Pin<&mut Self>, limit: Option<Duration>);
    fn timeout(&self) -> Option<Duration>;
}

pin_project_lite::pin_project! {
    /// A future made by `start` from its deadline, when first polled.
    #[project = LazyProjection]
    enum Lazy<S, F> {
        Unstarted { start: Option<S>, timeout: Option<Duration> },
        Started { #[pin] run: F },
    }
}

impl<S, F> Future for Lazy<S, F>
where
    S: FnOnce(Option<Duration>) -> F,
    F: Future,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if let LazyProjection::Unstarted { start, timeout } = self.as_mut().project() {
            // `start` is taken only here, and the state changes to `Started` at once.
            if let Some(start) = start.take() {
                let run = start(*timeout);
                self.set(Lazy::Started { run });
            }
        }
        match self.project() {
            LazyProjection::Started { run } => run.poll(cx),
            LazyProjection::Unstarted { .. } => Poll::Pending,
        }
    }
}

impl<S, F, T, E> TimedCall<T, E> for Lazy<S, F>
where
    S: FnOnce(Option<Duration>) -> F + Send,
    F: Future<Output = Result<T, CallError<E>>> + Send,
{
    fn set_timeout(self: Pin<&mut Self>, limit: Option<Duration>) {
        if let LazyProjection::Unstarted { timeout, .. } = self.project() {
            *timeout = limit;
        }
    }

    fn timeout(&self) -> Option<Duration> {
        match self {
            Lazy::Unstarted { timeout, .. } => *timeout,
            Lazy::Started { .. } => None,
        }
    }
}

impl<T, E> HandleCall<T, E> {
    /// A call that runs `start(deadline)` when awaited (30 s unless set).
    pub(crate) fn new<S, F>(start: S) -> Self
    where
        S: FnOnce(Option<Duration>) -> F + Send + 'static,
        F: Future<Output = Result<T, CallError<E>>> + Send + 'static,
    {
        HandleCall {
            call: Box::pin(Lazy::Unstarted {
                start: Some(start),
                timeout: Some(DEFAULT_CALL_TIMEOUT),
            }),
            types: PhantomData,
        }
    }

    /// Fails the call with [`IpcError::Timeout`](crate::IpcError::Timeout) (and cancels the
    /// handler) if no answer came within `limit` (30 s unless set).
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.call.as_mut().set_timeout(Some(limit));
        self
    }

    /// Waits as long as it takes.
    pub fn no_timeout(mut self) -> Self {
        self.call.as_mut().set_timeout(None);
        self
    }
}

impl<T, E> IntoFuture for HandleCall<T, E> {
    type Output = Result<T, CallError<E>>;
    type IntoFuture = HandleCallFuture<T, E>;

    fn into_future(self) -> Self::IntoFuture {
        HandleCallFuture(self.call)
    }
}

impl<T, E> Future for HandleCallFuture<T, E> {
    type Output = Result<T, CallError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl<T, E> fmt::Debug for HandleCall<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleCall")
            .field("timeout", &self.call.timeout())
            .finish()
    }
}

impl<T, E> fmt::Debug for HandleCallFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleCallFuture").finish_non_exhaustive()
    }
}
