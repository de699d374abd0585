//! Invoke end to end with the generated code: plain `-> T`, `-> Result<T, E>`, no arguments,
//! several arguments, unit results, the generated channel constants and client, and many calls
//! in flight at once from several renderers.

mod common;

use common::{Todo, TodoBackend, TodoError, Todos, TodosClient, within};
use ipc_runtime::{CallError, IpcError, Main, RendererOptions};

fn todo(id: u32, title: &str, done: bool) -> Todo {
    Todo {
        id,
        title: title.into(),
        done,
    }
}

#[tokio::test]
async fn generated_constants_name_the_channels() {
    assert_eq!(Todos::ADD.name(), "todos:add");
    assert_eq!(Todos::TRY_ADD.name(), "todos:try_add");
    assert_eq!(Todos::TOGGLE.name(), "todos:toggle");
    assert_eq!(Todos::LOG.name(), "todos:log");
    assert_eq!(Todos::CHANGED.name(), "todos:changed");
    assert_eq!(Todos::CLEARED.name(), "todos:cleared");
    assert_eq!(Todos::RENAMED.name(), "todos:renamed");
}

#[tokio::test]
async fn handle_registers_every_invoke_and_send_channel() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let registration = Todos::handle(&main, backend).unwrap();
    let mut channels = registration.channels();
    channels.sort_unstable();
    assert_eq!(
        channels,
        vec![
            "todos:add",
            "todos:clear",
            "todos:count",
            "todos:list",
            "todos:log",
            "todos:rename",
            "todos:toggle",
            "todos:try_add",
        ]
    );
    for invoke in ["todos:add", "todos:try_add", "todos:toggle", "todos:list"] {
        assert!(main.has_handler(invoke), "{invoke} has no handler");
    }
    assert!(!main.has_handler("todos:log"), "a send is not an invoke");
    assert_eq!(main.listener_count("todos:log"), 1);
    assert!(!main.has_handler("todos:changed"), "events are not handled");
    assert_eq!(main.listener_count("todos:changed"), 0);
}

#[tokio::test]
async fn plain_invoke_round_trips_values() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("window")));

    assert_eq!(client.count().await, Ok(0), "no-argument invoke");
    assert_eq!(client.add("milk".into()).await, Ok(todo(1, "milk", false)));
    assert_eq!(
        client.add("bread".into()).await,
        Ok(todo(2, "bread", false))
    );
    assert_eq!(
        client.list().await,
        Ok(vec![todo(1, "milk", false), todo(2, "bread", false)])
    );
    assert_eq!(client.count().await, Ok(2));
    assert_eq!(client.clear().await, Ok(()), "unit-returning invoke");
    assert_eq!(client.list().await, Ok(vec![]));
}

#[tokio::test]
async fn fallible_invoke_returns_ok_and_the_application_error() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let client = TodosClient::new(main.connect_in_process(RendererOptions::new("window")));

    let milk = client.try_add("milk".into()).await.unwrap();
    assert_eq!(milk, todo(1, "milk", false));
    assert_eq!(client.toggle(1).await, Ok(todo(1, "milk", true)));
    assert_eq!(client.toggle(1).await, Ok(todo(1, "milk", false)));
    assert_eq!(
        client.toggle(42).await,
        Err(CallError::App(TodoError::NotFound { id: 42 }))
    );

    // Two arguments and a `Result<(), E>`.
    assert_eq!(client.rename(1, "oat milk".into()).await, Ok(()));
    assert_eq!(client.list().await.unwrap()[0].title, "oat milk");
    assert_eq!(
        client.rename(9, "x".into()).await,
        Err(CallError::App(TodoError::NotFound { id: 9 }))
    );
}

#[tokio::test]
async fn the_low_level_renderer_api_uses_the_same_typed_constants() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("window"));

    let added: Result<Todo, CallError<ipc_runtime::Never>> =
        renderer.invoke(Todos::ADD, ("tea".to_string(),)).await;
    assert_eq!(added, Ok(todo(1, "tea", false)));
    assert_eq!(
        renderer.invoke(Todos::TOGGLE, (5,)).await,
        Err(CallError::App(TodoError::NotFound { id: 5 }))
    );
    assert_eq!(
        renderer
            .invoke(Todos::COUNT, ipc_runtime::NoArgs)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        Todos::client(&renderer).count().channel(),
        "todos:count",
        "a call knows its channel"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_from_several_renderers_all_complete() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let clients: Vec<TodosClient> = (0..4)
        .map(|i| Todos::client(&main.connect_in_process(RendererOptions::new(format!("w{i}")))))
        .collect();

    let mut tasks = tokio::task::JoinSet::new();
    for (r, client) in clients.iter().enumerate() {
        for i in 0..50 {
            let client = client.clone();
            tasks.spawn(async move { client.add(format!("{r}-{i}")).await });
        }
    }
    let mut ids = Vec::new();
    while let Some(done) = within("all calls", tasks.join_next()).await {
        ids.push(done.unwrap().unwrap().id);
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=200).collect::<Vec<u32>>());
    assert_eq!(clients[0].count().await, Ok(200));
}

#[tokio::test]
async fn an_invoke_of_an_unhandled_channel_is_a_framework_error() {
    let main = Main::new();
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("window")));
    assert_eq!(
        client.count().await,
        Err(IpcError::NoHandler {
            channel: "todos:count".into()
        })
    );
    assert_eq!(
        client.toggle(1).await,
        Err(CallError::Ipc(IpcError::NoHandler {
            channel: "todos:toggle".into()
        }))
    );
}
