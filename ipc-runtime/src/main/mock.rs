//! What a generated `{Trait}Mock` records: one [`MockCall`] per call it received.

use std::sync::Mutex;

use crate::caller::Caller;
use crate::util::lock;

/// One call a generated `{Trait}Mock` (a scriptable stand-in for main's handler, for tests)
/// received: the method, the caller's label, and the arguments as JSON.
///
/// # Examples
///
/// ```
/// use ipc_runtime::{Caller, Main, MockCall, RendererOptions, channels};
///
/// #[channels(namespace = "todos")]
/// pub trait Todos {
///     async fn add(&self, title: String) -> u32;
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let main = Main::new();
/// let mock = TodosMock::new();
/// mock.on_add(|title| title.len() as u32);
/// let _registration = Todos::handle(&main, mock.clone()).unwrap();
/// let window = Todos::client(&main.connect_in_process(RendererOptions::new("window")));
/// assert_eq!(window.add("milk".into()).await, Ok(4));
/// assert_eq!(
///     mock.calls(),
///     [MockCall::new("add", "window", serde_json::json!(["milk"]))]
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MockCall {
    /// The method's name (`add`).
    pub method: &'static str,
    /// The caller's label (`RendererOptions::new(label)`).
    pub caller: String,
    /// The arguments, in order, as a JSON array (their serde form).
    pub args: serde_json::Value,
}

impl MockCall {
    /// A call of `method` by the renderer labelled `caller` with `args`.
    pub fn new(method: &'static str, caller: impl Into<String>, args: serde_json::Value) -> Self {
        MockCall {
            method,
            caller: caller.into(),
            args,
        }
    }
}

/// One argument of a recorded call, as JSON. A value that only crosses a connection (a port, a
/// stream, a handle) is recorded as a note saying so, and the other arguments as they are.
#[doc(hidden)]
pub fn mock_arg<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Value {
    serde_json::to_value(value)
        .unwrap_or_else(|error| serde_json::Value::String(format!("(not recorded: {error})")))
}

/// The calls a mock received, oldest first (generated mocks hold one).
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct MockCalls(Mutex<Vec<MockCall>>);

impl MockCalls {
    /// Records a call of `method` by `caller` with `args` (each made by [`mock_arg`]).
    pub fn record(&self, method: &'static str, caller: &Caller, args: Vec<serde_json::Value>) {
        let args = serde_json::Value::Array(args);
        lock(&self.0).push(MockCall::new(method, caller.label(), args));
    }

    /// Every call so far.
    pub fn all(&self) -> Vec<MockCall> {
        lock(&self.0).clone()
    }
}
