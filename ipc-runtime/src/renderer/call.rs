//! Calls in flight: [`TryCall`] (fallible invokes) and [`Call`] (infallible invokes).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::Renderer;
use crate::error::{CallError, IpcError, Never};
use crate::transport::message::{ChannelName, DecodeValue, open_reply, take_unwired, take_value};
use crate::wire::Payload;
use crate::wire::time::Unwire;

/// A pending invoke of a method declared `-> Result<T, E>`. Await it for
/// `Result<T, CallError<E>>`; set a deadline first with [`TryCall::timeout`].
///
/// Nothing is sent until the call is awaited; dropping the future before the reply arrives
/// cancels the handler on main.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ipc_runtime::{CallError, InvokeChannel, Main, RendererOptions};
///
/// const DIV: InvokeChannel<(i32, i32), i32, String> = InvokeChannel::new("math:div");
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// main.handle(DIV, |_, (a, b)| async move {
///     if b == 0 { Err("division by zero".to_string()) } else { Ok(a / b) }
/// }).unwrap();
/// let renderer = main.connect_in_process(RendererOptions::new("calc"));
/// assert_eq!(renderer.invoke(DIV, (6, 3)).timeout(Duration::from_secs(1)).await, Ok(2));
/// assert_eq!(
///     renderer.invoke(DIV, (1, 0)).await,
///     Err(CallError::App("division by zero".to_string()))
/// );
/// # }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct TryCall<T, E> {
    renderer: Renderer,
    channel: ChannelName,
    args: Payload,
    timeout: Option<Duration>,
    decode: DecodeValue<T>,
    types: PhantomData<fn() -> E>,
}

impl<T, E> TryCall<T, E> {
    pub(crate) fn new(renderer: Renderer, channel: ChannelName, args: Payload) -> Self
    where
        T: DeserializeOwned + 'static,
    {
        let timeout = renderer.default_timeout();
        TryCall {
            renderer,
            channel,
            args,
            timeout,
            decode: take_value::<T>,
            types: PhantomData,
        }
    }

    /// The call of a method whose result the contract carries in a wire form (a time value),
    /// resolving to the value itself. Generated code calls it.
    #[doc(hidden)]
    pub fn unwired(self) -> TryCall<T::Value, E>
    where
        T: Unwire + DeserializeOwned + 'static,
    {
        TryCall {
            renderer: self.renderer,
            channel: self.channel,
            args: self.args,
            timeout: self.timeout,
            decode: take_unwired::<T>,
            types: PhantomData,
        }
    }

    /// Fails the call with [`IpcError::Timeout`] (and cancels the handler) if no reply came
    /// within `limit`. Replaces the renderer's default deadline.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Waits as long as it takes (no deadline at all).
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// The channel being called.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

impl<T, E> IntoFuture for TryCall<T, E>
where
    T: Send + 'static,
    E: DeserializeOwned + Send + 'static,
{
    type Output = Result<T, CallError<E>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        self.start(std::convert::identity)
    }
}

impl<T, E> TryCall<T, E>
where
    T: Send + 'static,
    E: DeserializeOwned + Send + 'static,
{
    /// The call's future, its outcome passed through `finish`. One allocation, sized for the
    /// kind of connection the call takes (an in-process call's future holds nothing of a
    /// remote one's, and the other way round).
    fn start<O: 'static>(
        self,
        finish: fn(Result<T, CallError<E>>) -> O,
    ) -> Pin<Box<dyn Future<Output = O> + Send>> {
        let TryCall {
            renderer,
            channel,
            args,
            timeout,
            decode,
            ..
        } = self;
        if let Some(refused) = renderer.contract_refusal(&channel) {
            return Box::pin(async move { finish(Err(CallError::Ipc(refused))) });
        }
        // The call's future is made inside the boxed one, not moved into it: a future moved
        // into an `async` block is stored twice (as the value moved in and as the one
        // awaited), and every byte of it is copied into the box.
        if renderer.is_local() {
            Box::pin(async move {
                let result = renderer
                    .call_in_process(channel.clone(), args, timeout)
                    .await;
                finish(open_reply(&channel, result, decode))
            })
        } else {
            Box::pin(async move {
                let result = renderer.call_remote(channel.clone(), args, timeout).await;
                finish(open_reply(&channel, result, decode))
            })
        }
    }
}

impl<T, E> TryCall<T, E>
where
    T: Send + 'static,
    E: DeserializeOwned + Send + 'static,
{
    /// Makes the call and blocks the calling thread until its outcome: the blocking form of
    /// `.await`, for code that is not async (the generated client's `#[sync]` methods use it).
    ///
    /// The call runs on the runtime the renderer was connected on, so this thread only waits.
    /// Set a deadline first ([`TryCall::timeout`]): without one a main that never answers
    /// blocks the thread until the connection closes.
    ///
    /// # Errors
    ///
    /// As the awaited call: [`CallError::App`] with the handler's error, [`CallError::Ipc`]
    /// with the framework's ([`IpcError::Timeout`] past the deadline, also when the renderer's
    /// runtime does not run the call at all, such as a current-thread runtime no thread drives;
    /// [`IpcError::Disconnected`] when that runtime shuts down while the call waits).
    ///
    /// # Panics
    ///
    /// When called on a thread that drives a Tokio runtime (inside a task, or `block_on`), as
    /// Tokio's own blocking calls do: that thread may be the one the reply needs. Nothing is sent
    /// then. Call it from a plain thread or inside `tokio::task::spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ipc_runtime::{InvokeChannel, Main, RendererOptions};
    ///
    /// const DIV: InvokeChannel<(i32, i32), i32, String> = InvokeChannel::new("math:div");
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let main = Main::new();
    /// main.handle(DIV, |_, (a, b)| async move { Ok(a / b) }).unwrap();
    /// let renderer = main.connect_in_process(RendererOptions::new("calc"));
    /// let quotient = tokio::task::spawn_blocking(move || {
    ///     renderer.invoke(DIV, (6, 3)).timeout(Duration::from_secs(1)).wait()
    /// });
    /// assert_eq!(quotient.await.unwrap(), Ok(2));
    /// # }
    /// ```
    pub fn wait(self) -> Result<T, CallError<E>> {
        let renderer = self.renderer.clone();
        let channel = self.channel.clone();
        let deadline = self.timeout;
        match block_on_call(&renderer, deadline, self.start(std::convert::identity)) {
            Waited::Done(outcome) => outcome,
            Waited::Dropped => Err(CallError::Ipc(renderer.disconnected_error())),
            Waited::Stalled(after) => Err(CallError::Ipc(IpcError::Timeout {
                channel: channel.to_string(),
                after,
            })),
        }
    }
}

/// How long a blocking call waits past its deadline for a runtime that does not run its task (a
/// current-thread runtime nobody drives), before it answers `Timeout` itself.
const STALLED_RUNTIME_GRACE: Duration = Duration::from_millis(500);

/// What a blocking wait ended with.
enum Waited<O> {
    Done(O),
    /// The runtime dropped the call (it shut down).
    Dropped,
    /// Nothing came by the deadline and its grace: the runtime never ran the call.
    Stalled(Duration),
}

/// Runs `call` on the renderer's runtime and waits for it on this thread, at most `deadline`
/// (and a grace) when there is one.
fn block_on_call<O: Send + 'static>(
    renderer: &Renderer,
    deadline: Option<Duration>,
    call: Pin<Box<dyn Future<Output = O> + Send>>,
) -> Waited<O> {
    // Tokio's check that this thread may block, made before anything is sent: it panics on a
    // thread that drives a runtime.
    let (done, check) = tokio::sync::oneshot::channel::<()>();
    drop(done);
    let _ = check.blocking_recv();
    let (sender, outcome) = std::sync::mpsc::sync_channel(1);
    renderer.runtime().spawn(async move {
        let _ = sender.send(call.await);
    });
    match deadline {
        // The call's own deadline ends it on the runtime; this one only covers a runtime that
        // never runs it.
        Some(deadline) => match outcome.recv_timeout(deadline + STALLED_RUNTIME_GRACE) {
            Ok(done) => Waited::Done(done),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Waited::Stalled(deadline),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Waited::Dropped,
        },
        None => outcome.recv().map_or(Waited::Dropped, Waited::Done),
    }
}

impl<T, E> fmt::Debug for TryCall<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryCall")
            .field("channel", &self.channel)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A pending invoke of a method that cannot fail on its own (declared `-> T`). Await it for
/// `Result<T, IpcError>`: only the framework can fail it.
///
/// # Examples
///
/// ```
/// use ipc_runtime::Never;
/// use ipc_runtime::{Call, InvokeChannel, Main, RendererOptions};
///
/// const ECHO: InvokeChannel<(String,), String, Never> = InvokeChannel::new("echo:echo");
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// main.handle(ECHO, |_, (s,)| async move { Ok(s) }).unwrap();
/// let renderer = main.connect_in_process(RendererOptions::new("r"));
/// let call: Call<String> = Call::from(renderer.invoke(ECHO, ("hi".into(),)));
/// assert_eq!(call.await.unwrap(), "hi");
/// # }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<T> {
    inner: TryCall<T, Never>,
}

impl<T> Call<T> {
    /// As [`TryCall::timeout`].
    pub fn timeout(self, limit: Duration) -> Self {
        Call {
            inner: self.inner.timeout(limit),
        }
    }

    /// As [`TryCall::no_timeout`].
    pub fn no_timeout(self) -> Self {
        Call {
            inner: self.inner.no_timeout(),
        }
    }

    /// The channel being called.
    pub fn channel(&self) -> &str {
        self.inner.channel()
    }
}

impl<T: Send + 'static> Call<T> {
    /// As [`TryCall::wait`]: makes the call and blocks the calling thread until its outcome.
    ///
    /// # Errors
    ///
    /// The framework's [`IpcError`] ([`IpcError::Timeout`] past the deadline).
    ///
    /// # Panics
    ///
    /// When called on a thread that drives a Tokio runtime (see [`TryCall::wait`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ipc_runtime::{Call, InvokeChannel, Main, Never, RendererOptions};
    ///
    /// const ECHO: InvokeChannel<(String,), String, Never> = InvokeChannel::new("echo:echo");
    ///
    /// // The runtime works on its own threads; this one is a plain thread that may block.
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let (main, renderer) = runtime.block_on(async {
    ///     let main = Main::new();
    ///     main.handle(ECHO, |_, (s,)| async move { Ok(s) }).unwrap();
    ///     let renderer = main.connect_in_process(RendererOptions::new("r"));
    ///     (main, renderer)
    /// });
    /// let echoed = Call::from(renderer.invoke(ECHO, ("hi".into(),)))
    ///     .timeout(Duration::from_secs(1))
    ///     .wait();
    /// assert_eq!(echoed.unwrap(), "hi");
    /// # drop((main, renderer));
    /// ```
    pub fn wait(self) -> Result<T, IpcError> {
        framework_only(self.inner.wait())
    }
}

/// The outcome of a call that cannot fail on its own: only the framework's error is left.
fn framework_only<T>(result: Result<T, CallError<Never>>) -> Result<T, IpcError> {
    result.map_err(|error| match error {
        CallError::Ipc(error) => error,
        CallError::App(never) => match never {},
    })
}

impl<T> From<TryCall<T, Never>> for Call<T> {
    fn from(inner: TryCall<T, Never>) -> Self {
        Call { inner }
    }
}

impl<T: Send + 'static> IntoFuture for Call<T> {
    type Output = Result<T, IpcError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        self.inner.start(framework_only)
    }
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
