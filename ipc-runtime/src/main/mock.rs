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

/// The calls a mock received, oldest first (generated mocks hold one).
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct MockCalls(Mutex<Vec<MockCall>>);

impl MockCalls {
    /// Records a call of `method` by `caller` with `args` (a tuple of references to them).
    pub fn record(&self, method: &'static str, caller: &Caller, args: impl serde::Serialize) {
        let args = match serde_json::to_value(args) {
            // `()`, a method without arguments: an empty list like the others' lists.
            Ok(serde_json::Value::Null) => serde_json::Value::Array(Vec::new()),
            Ok(args) => args,
            Err(error) => serde_json::Value::String(format!("(not serializable: {error})")),
        };
        lock(&self.0).push(MockCall::new(method, caller.label(), args));
    }

    /// Every call so far.
    pub fn all(&self) -> Vec<MockCall> {
        lock(&self.0).clone()
    }
}
