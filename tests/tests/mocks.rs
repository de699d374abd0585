//! Generated mocks (`{Trait}Mock`): a client driven in process against scripted answers, every
//! call recorded with its caller and arguments, a missing answer reported as the handler's panic.

mod common;

use common::{eventually, within};
use ipc_runtime::{CallError, IpcError, Main, MockCall, RendererOptions, channels, data};
use serde_json::json;

#[data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Todo {
    pub id: u32,
    pub title: String,
}

#[data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TodoError {
    NotFound,
}

#[channels(namespace = "mocked")]
pub trait Mocked {
    async fn add(&self, title: String, done: bool) -> Todo;
    async fn get(&self, id: u32) -> Result<Todo, TodoError>;
    async fn count(&self) -> u32;
    #[send]
    fn log(&self, line: String);
    #[sync(timeout_ms = 2000)]
    async fn peek(&self, id: u32) -> u32;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_answers_as_scripted_and_records_every_call() {
    let main = Main::new();
    let mock = MockedMock::new();
    mock.on_add(|title, done| Todo {
        id: u32::from(done) + 1,
        title,
    })
    .on_get(|id| {
        if id == 1 {
            Ok(Todo {
                id,
                title: "one".into(),
            })
        } else {
            Err(TodoError::NotFound)
        }
    })
    .on_peek(|id| id * 10);
    let _registration = Mocked::handle(&main, mock.clone()).unwrap();
    let window = Mocked::client(&main.connect_in_process(RendererOptions::new("window")));

    assert_eq!(
        within("add", window.add("milk".into(), true)).await,
        Ok(Todo {
            id: 2,
            title: "milk".into()
        })
    );
    assert_eq!(window.get(1).await.unwrap().title, "one");
    assert_eq!(
        window.get(9).await,
        Err(CallError::App(TodoError::NotFound))
    );
    window.log("hello".into()).unwrap();
    let peeking = window.clone();
    assert_eq!(
        tokio::task::spawn_blocking(move || peeking.peek(4))
            .await
            .unwrap(),
        Ok(40)
    );
    // No answer for `count`: the call fails as a handler panic naming what is missing.
    match within("count", window.count()).await {
        Err(IpcError::HandlerPanicked { message, .. }) => {
            assert!(message.contains("no answer for `count`"), "{message}");
        }
        other => panic!("expected HandlerPanicked, got {other:?}"),
    }
    // A send is recorded once it is handled.
    eventually("the send recorded", || {
        mock.calls().iter().any(|c| c.method == "log")
    })
    .await;
    let mut calls = mock.calls();
    calls.sort_by_key(|c| c.method);
    assert_eq!(
        calls,
        [
            MockCall::new("add", "window", json!(["milk", true])),
            MockCall::new("count", "window", json!([])),
            MockCall::new("get", "window", json!([1])),
            MockCall::new("get", "window", json!([9])),
            MockCall::new("log", "window", json!(["hello"])),
            MockCall::new("peek", "window", json!([4])),
        ]
    );
}

/// A mock stands in for a handler wherever one is expected, shared through an `Arc` too (a
/// compile-time check: this test fails by not building).
#[test]
fn a_mock_is_a_handler() {
    fn takes<H: MockedHandler>(_: &H) {}
    let mock = MockedMock::new();
    takes(&mock);
    takes(&std::sync::Arc::new(mock));
}
