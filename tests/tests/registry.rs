//! Main's registry (Electron's `ipcMain` rules): one handler per channel, atomic batch
//! registration, `handle_once`, `remove_handler`, `Registration::remove` touching only its own
//! entries, and the listener calls (`on`, `once`, `remove_listener`, `remove_all_listeners`,
//! `listener_count`).

mod common;

use common::{TodoBackend, Todos, within};
use ipc_runtime::{IpcError, Main, RegistryError, RendererOptions};
use tokio::sync::mpsc;

/// A channel outside the contract, used to know when main has handled earlier sends.
const SENTINEL: ipc_runtime::SendChannel<ipc_runtime::NoArgs> =
    ipc_runtime::SendChannel::new("test:sentinel");

fn no_handler(channel: &str) -> IpcError {
    IpcError::NoHandler {
        channel: channel.into(),
    }
}

#[tokio::test]
async fn handling_a_channel_twice_is_refused_and_the_first_handler_stays() {
    let main = Main::new();
    main.handle(Todos::COUNT, |_, _| async { Ok(1) }).unwrap();
    let second = main.handle(Todos::COUNT, |_, _| async { Ok(2) });
    assert_eq!(
        second,
        Err(RegistryError::AlreadyHandled {
            channel: "todos:count".into()
        })
    );
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("w")));
    assert_eq!(client.count().await, Ok(1));
}

#[tokio::test]
async fn a_conflicting_contract_registration_registers_nothing() {
    let main = Main::new();
    // Someone already handles one channel of the contract.
    main.handle(Todos::LIST, |_, _| async { Ok(Vec::new()) })
        .unwrap();

    let (backend, _log) = TodoBackend::new();
    let refused = Todos::handle(&main, backend);
    assert_eq!(
        refused.map(|r| r.channels().len()).unwrap_err(),
        RegistryError::AlreadyHandled {
            channel: "todos:list".into()
        }
    );
    for channel in ["todos:add", "todos:toggle", "todos:count", "todos:clear"] {
        assert!(!main.has_handler(channel), "{channel} was registered");
    }
    assert_eq!(main.listener_count("todos:log"), 0, "the send listener too");

    let client = Todos::client(&main.connect_in_process(RendererOptions::new("w")));
    assert_eq!(client.count().await, Err(no_handler("todos:count")));
    assert_eq!(client.list().await, Ok(vec![]), "the earlier handler stays");
}

#[tokio::test]
async fn registering_a_contract_twice_is_refused_atomically() {
    let main = Main::new();
    let (first, _log1) = TodoBackend::new();
    let (second, _log2) = TodoBackend::new();
    let _registration = Todos::handle(&main, first).unwrap();
    assert!(matches!(
        Todos::handle(&main, second),
        Err(RegistryError::AlreadyHandled { .. })
    ));
    assert_eq!(
        main.listener_count("todos:log"),
        1,
        "no second send listener"
    );
}

/// Another version of the `todos` contract (same namespace, a different `count` result), so a
/// different contract hash.
mod other_version {
    /// Todos, version 2.
    #[ipc_runtime::channels(namespace = "todos")]
    pub trait Todos {
        /// Counts, as text.
        async fn count(&self) -> String;
    }

    pub struct Backend;

    impl TodosHandler for Backend {
        async fn count(&self, _caller: &ipc_runtime::Caller) -> String {
            "zero".into()
        }
    }
}

#[tokio::test]
async fn a_successful_contract_registration_declares_the_contract() {
    let main = Main::new();
    assert!(main.contracts().is_empty());
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    assert_eq!(
        main.contracts().get("todos").map(String::as_str),
        Some(Todos::contract_hash())
    );
}

/// A refused `{Trait}::handle` must leave main as it was, including the contracts it declares
/// at the handshake.
#[tokio::test]
async fn a_refused_contract_registration_declares_nothing() {
    let main = Main::new();
    main.handle(Todos::LIST, |_, _| async { Ok(Vec::new()) })
        .unwrap();
    let (backend, _log) = TodoBackend::new();
    assert!(Todos::handle(&main, backend).is_err());
    assert_eq!(main.contracts().get("todos"), None, "nothing registered");
}

/// A refused registration of another version of a contract must not replace the declared hash
/// of the version main actually serves (renderers of that version would be refused).
#[tokio::test]
async fn a_refused_registration_of_another_version_keeps_the_declared_hash() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    assert_ne!(
        other_version::Todos::contract_hash(),
        Todos::contract_hash()
    );
    assert_eq!(
        other_version::Todos::handle(&main, other_version::Backend).unwrap_err(),
        RegistryError::AlreadyHandled {
            channel: "todos:count".into()
        }
    );
    assert_eq!(
        main.contracts().get("todos").map(String::as_str),
        Some(Todos::contract_hash()),
        "the served version stays declared"
    );
}

/// The control for the ignored test below: without a refused registration, the handshake
/// accepts a renderer of the served contract version.
#[tokio::test]
async fn a_renderer_of_the_served_version_is_accepted() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let (main_side, renderer_side) = ipc_runtime::InProcess::pair();
    let accepted = tokio::spawn({
        let main = main.clone();
        async move { main.accept(main_side).await }
    });
    let options = RendererOptions::new("v1").contract(Todos::schema());
    let renderer = within(
        "the handshake",
        ipc_runtime::Renderer::connect(renderer_side, options),
    )
    .await
    .unwrap();
    assert_eq!(within("accept", accepted).await.unwrap(), Ok(renderer.id()));
    assert_eq!(Todos::client(&renderer).count().await, Ok(0));
}

/// What the wrong declaration does: a renderer built from the contract main really serves is
/// refused at the handshake.
#[tokio::test]
async fn a_renderer_of_the_served_version_is_accepted_after_a_refused_registration() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    assert!(other_version::Todos::handle(&main, other_version::Backend).is_err());

    let (main_side, renderer_side) = ipc_runtime::InProcess::pair();
    let accepted = tokio::spawn({
        let main = main.clone();
        async move { main.accept(main_side).await }
    });
    let options = RendererOptions::new("v1").contract(Todos::schema());
    let renderer = within(
        "the handshake",
        ipc_runtime::Renderer::connect(renderer_side, options),
    )
    .await
    .expect("a renderer of the served contract version is accepted");
    assert_eq!(within("accept", accepted).await.unwrap(), Ok(renderer.id()));
    assert_eq!(Todos::client(&renderer).count().await, Ok(0));
}

#[tokio::test]
async fn handle_once_serves_exactly_one_call() {
    let main = Main::new();
    main.handle_once(Todos::COUNT, |_, _| async { Ok(7) })
        .unwrap();
    assert!(main.has_handler("todos:count"));
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("w")));

    assert_eq!(client.count().await, Ok(7));
    assert_eq!(client.count().await, Err(no_handler("todos:count")));
    assert!(!main.has_handler("todos:count"));
    // The channel is free again.
    main.handle(Todos::COUNT, |_, _| async { Ok(8) }).unwrap();
    assert_eq!(client.count().await, Ok(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handle_once_serves_one_of_many_concurrent_calls() {
    let main = Main::new();
    main.handle_once(Todos::COUNT, |_, _| async { Ok(7) })
        .unwrap();
    let clients: Vec<_> = (0..4)
        .map(|i| Todos::client(&main.connect_in_process(RendererOptions::new(format!("w{i}")))))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for client in &clients {
        for _ in 0..10 {
            let client = client.clone();
            tasks.spawn(async move { client.count().await });
        }
    }
    let (mut served, mut refused) = (0, 0);
    while let Some(result) = within("all calls", tasks.join_next()).await {
        match result.unwrap() {
            Ok(7) => served += 1,
            Err(IpcError::NoHandler { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((served, refused), (1, 39));
}

#[tokio::test]
async fn remove_handler_reports_whether_there_was_one_and_calls_then_fail() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("w")));
    assert_eq!(client.count().await, Ok(0));

    assert!(main.remove_handler(Todos::COUNT.name()));
    assert!(!main.remove_handler(Todos::COUNT.name()));
    assert!(!main.remove_handler("todos:nonexistent"));
    assert_eq!(client.count().await, Err(no_handler("todos:count")));
    assert_eq!(client.list().await, Ok(vec![]), "other channels unaffected");
}

#[tokio::test]
async fn registration_remove_removes_only_its_own_entries() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    let registration = Todos::handle(&main, backend).unwrap();
    let total = registration.channels().len();

    // Replace one handler after the contract registered it, and add an unrelated listener.
    assert!(main.remove_handler(Todos::COUNT.name()));
    main.handle(Todos::COUNT, |_, _| async { Ok(99) }).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    main.on(Todos::LOG, move |_, (line,)| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(line);
        }
    });
    assert_eq!(main.listener_count("todos:log"), 2);

    assert_eq!(registration.remove(), total - 1, "all but the replaced one");
    assert!(!main.has_handler("todos:add"));
    assert!(
        main.has_handler("todos:count"),
        "the later handler survives"
    );
    assert_eq!(
        main.listener_count("todos:log"),
        1,
        "the later listener too"
    );

    let client = Todos::client(&main.connect_in_process(RendererOptions::new("w")));
    assert_eq!(client.count().await, Ok(99));
    assert_eq!(client.list().await, Err(no_handler("todos:list")));
    client.log("still heard".into()).unwrap();
    assert_eq!(within("the line", rx.recv()).await.unwrap(), "still heard");
}

#[tokio::test]
async fn a_contract_can_be_registered_again_after_its_registration_is_removed() {
    let main = Main::new();
    let (first, _log1) = TodoBackend::new();
    let (second, _log2) = TodoBackend::new();
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("w")));

    let registration = Todos::handle(&main, first).unwrap();
    client.add("in the first".into()).await.unwrap();
    registration.remove();
    assert_eq!(client.count().await, Err(no_handler("todos:count")));

    let _registration = Todos::handle(&main, second).unwrap();
    assert_eq!(client.count().await, Ok(0), "served by the second backend");
}

#[tokio::test]
async fn dropping_a_registration_keeps_the_handlers() {
    let main = Main::new();
    let (backend, _log) = TodoBackend::new();
    drop(Todos::handle(&main, backend).unwrap());
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("w")));
    assert_eq!(client.count().await, Ok(0));
}

/// Sends `lines` and then a final marker line, and returns what the other listeners received up to
/// the moment the "marker" listener saw the marker line (sends from one renderer are handled in
/// order, so that proves every earlier send was handled).
async fn deliveries(
    client: &common::TodosClient,
    rx: &mut mpsc::UnboundedReceiver<(&'static str, String)>,
    lines: &[&str],
) -> Vec<(&'static str, String)> {
    for line in lines {
        client.log((*line).into()).unwrap();
    }
    client.log("marker".into()).unwrap();
    let mut seen = Vec::new();
    loop {
        let (who, line) = within("the marker", rx.recv()).await.unwrap();
        if who == "marker" && line == "marker" {
            return seen;
        }
        if who != "marker" && line != "marker" {
            seen.push((who, line));
        }
    }
}

#[tokio::test]
async fn listeners_on_once_remove_listener_remove_all_listeners_and_listener_count() {
    let main = Main::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<(&'static str, String)>();
    let listen = |who: &'static str| {
        let tx = tx.clone();
        move |_caller: ipc_runtime::Caller, (line,): (String,)| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((who, line));
            }
        }
    };
    let log = Todos::LOG.name();
    assert_eq!(main.listener_count(log), 0);
    let marker = main.on(Todos::LOG, listen("marker"));
    let a = main.on(Todos::LOG, listen("a"));
    let b = main.on(Todos::LOG, listen("b"));
    let _once = main.once(Todos::LOG, listen("once"));
    assert_eq!(main.listener_count(log), 4);
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("w")));

    // `once` hears only the first send, and then is gone.
    let seen = deliveries(&client, &mut rx, &["1", "2"]).await;
    assert_eq!(
        seen,
        vec![
            ("a", "1".to_string()),
            ("b", "1".to_string()),
            ("once", "1".to_string()),
            ("a", "2".to_string()),
            ("b", "2".to_string()),
        ]
    );
    assert_eq!(main.listener_count(log), 3);

    // `remove_listener` removes exactly one, once.
    assert!(main.remove_listener(log, a));
    assert!(!main.remove_listener(log, a));
    assert!(!main.remove_listener("todos:other", b));
    assert_eq!(main.listener_count(log), 2);
    let seen = deliveries(&client, &mut rx, &["3"]).await;
    assert_eq!(seen, vec![("b", "3".to_string())]);

    // `remove_all_listeners` returns how many it removed.
    assert_eq!(main.remove_all_listeners(log), 2);
    assert_eq!(main.remove_all_listeners(log), 0);
    assert_eq!(main.listener_count(log), 0);
    assert!(!main.remove_listener(log, marker));

    // With nobody listening, a send is dropped; a new listener hears the next one. (A send on
    // another channel is the proof that main handled the unheard one: sends from one renderer
    // are handled in order, whatever their channel.)
    client.log("unheard".into()).unwrap();
    let (handled_tx, mut handled) = mpsc::unbounded_channel();
    main.once(SENTINEL, move |_, _| {
        let handled_tx = handled_tx.clone();
        async move {
            let _ = handled_tx.send(());
        }
    });
    client
        .renderer()
        .send(SENTINEL, ipc_runtime::NoArgs)
        .unwrap();
    within("the sentinel", handled.recv()).await.unwrap();
    main.on(Todos::LOG, listen("late"));
    client.log("heard".into()).unwrap();
    let next = loop {
        let (who, line) = within("the late line", rx.recv()).await.unwrap();
        if line != "marker" {
            break (who, line);
        }
    };
    assert_eq!(next, ("late", "heard".to_string()));
}
