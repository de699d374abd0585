//! Typed application errors versus framework errors: `CallError::App(e)` is exactly the `E` the
//! handler returned, with its data; everything the framework detects is `CallError::Ipc(..)`
//! (or a bare `IpcError` for methods that cannot fail), and a client can match them apart.

mod common;

use common::{Todo, TodoBackend, TodoError, Todos, TodosClient};
use ipc_runtime::{CallError, InvokeChannel, IpcError, Main, Never, RendererOptions, channels};

fn setup() -> (Main, TodosClient) {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("window")));
    (main, client)
}

/// What a UI would do with the outcome: the point is that the match is exhaustive over the two
/// families and that the application error arrives with its data.
fn describe(result: Result<Todo, CallError<TodoError>>) -> String {
    match result {
        Ok(todo) => format!("ok #{}", todo.id),
        Err(CallError::App(TodoError::NotFound { id })) => format!("app: no todo #{id}"),
        Err(CallError::App(TodoError::InvalidTitle { title, reason })) => {
            format!("app: bad title {title:?} ({reason})")
        }
        Err(CallError::Ipc(IpcError::NoHandler { channel })) => format!("ipc: nobody on {channel}"),
        Err(CallError::Ipc(other)) => format!("ipc: {}", other.code()),
    }
}

#[tokio::test]
async fn the_application_error_arrives_as_itself_with_its_data() {
    let (_main, client) = setup();
    let error = client.try_add("   ".into()).await.unwrap_err();
    assert_eq!(
        error,
        CallError::App(TodoError::InvalidTitle {
            title: "   ".into(),
            reason: "a title must not be blank".into(),
        })
    );
    assert_eq!(
        error.app(),
        Some(&TodoError::InvalidTitle {
            title: "   ".into(),
            reason: "a title must not be blank".into(),
        })
    );
    assert_eq!(error.ipc(), None);
    // The application's own Display is still there.
    let CallError::App(app) = error else {
        unreachable!()
    };
    assert_eq!(
        app.to_string(),
        "invalid title \"   \": a title must not be blank"
    );
}

#[tokio::test]
async fn a_client_can_match_application_and_framework_errors_apart() {
    let (main, client) = setup();
    assert_eq!(describe(client.try_add("milk".into()).await), "ok #1");
    assert_eq!(describe(client.toggle(1).await), "ok #1");
    assert_eq!(describe(client.toggle(3).await), "app: no todo #3");
    assert_eq!(
        describe(client.try_add("".into()).await),
        "app: bad title \"\" (a title must not be blank)"
    );

    main.remove_handler(Todos::TOGGLE.name());
    let error = client.toggle(1).await.unwrap_err();
    assert_eq!(error.app(), None);
    assert_eq!(
        error.ipc(),
        Some(&IpcError::NoHandler {
            channel: "todos:toggle".into()
        })
    );
    assert_eq!(describe(Err(error)), "ipc: nobody on todos:toggle");
}

#[tokio::test]
async fn framework_errors_of_infallible_methods_are_bare_ipc_errors() {
    let (main, client) = setup();
    let result: Result<u32, IpcError> = client.count().await;
    assert_eq!(result, Ok(0));
    main.remove_handler(Todos::COUNT.name());
    let error = client.count().await.unwrap_err();
    assert_eq!(error.code(), "no_handler");
    assert_eq!(
        error.to_string(),
        "no handler is registered for channel `todos:count`"
    );
}

#[tokio::test]
async fn an_application_error_that_is_a_plain_string_or_unit_result() {
    /// Math with a string error.
    #[channels(namespace = "math")]
    trait Math {
        /// Divides.
        async fn div(&self, a: i32, b: i32) -> Result<i32, String>;
        /// Checks a value.
        async fn check(&self, value: i32) -> Result<(), String>;
    }
    struct Backend;
    impl MathHandler for Backend {
        async fn div(&self, _: &ipc_runtime::Caller, a: i32, b: i32) -> Result<i32, String> {
            a.checked_div(b)
                .ok_or_else(|| format!("cannot divide {a} by {b}"))
        }
        async fn check(&self, _: &ipc_runtime::Caller, value: i32) -> Result<(), String> {
            if value < 0 {
                Err("negative".into())
            } else {
                Ok(())
            }
        }
    }

    let main = Main::new();
    let _registration = Math::handle(&main, Backend).unwrap();
    let client = Math::client(&main.connect_in_process(RendererOptions::new("calc")));
    assert_eq!(client.div(7, 2).await, Ok(3));
    assert_eq!(
        client.div(7, 0).await,
        Err(CallError::App("cannot divide 7 by 0".to_string()))
    );
    assert_eq!(client.check(1).await, Ok(()));
    assert_eq!(
        client.check(-1).await,
        Err(CallError::App("negative".into()))
    );
}

#[tokio::test]
async fn arguments_of_the_wrong_type_are_a_framework_error() {
    let (_main, client) = setup();
    // A descriptor that disagrees with the contract about `todos:add`'s parameters.
    const WRONG_ARGS: InvokeChannel<(u32,), Todo, Never> = InvokeChannel::new("todos:add");
    let error = client
        .renderer()
        .invoke(WRONG_ARGS, (5,))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CallError::Ipc(IpcError::BadArguments { channel, .. }) if channel == "todos:add"),
        "{error:?}"
    );
    assert_eq!(client.count().await, Ok(0), "nothing was added");
}

#[tokio::test]
async fn a_reply_of_the_wrong_type_is_a_framework_error() {
    let (_main, client) = setup();
    // A descriptor that disagrees with the contract about `todos:count`'s result.
    const WRONG_REPLY: InvokeChannel<ipc_runtime::NoArgs, String, Never> =
        InvokeChannel::new("todos:count");
    let error = client
        .renderer()
        .invoke(WRONG_REPLY, ipc_runtime::NoArgs)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CallError::Ipc(IpcError::BadReply { channel, .. }) if channel == "todos:count"),
        "{error:?}"
    );

    // And an application error of the wrong type too.
    const WRONG_ERROR: InvokeChannel<(u32,), Todo, String> = InvokeChannel::new("todos:toggle");
    let error = client
        .renderer()
        .invoke(WRONG_ERROR, (99,))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CallError::Ipc(IpcError::BadReply { channel, .. }) if channel == "todos:toggle"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_framework_error_displays_transparently_and_an_app_error_is_labelled() {
    let ipc: CallError<TodoError> = IpcError::NoHandler {
        channel: "todos:add".into(),
    }
    .into();
    assert_eq!(
        ipc.to_string(),
        "no handler is registered for channel `todos:add`"
    );
    let app: CallError<TodoError> = CallError::App(TodoError::NotFound { id: 1 });
    assert!(app.to_string().starts_with("application error"), "{app}");
}
