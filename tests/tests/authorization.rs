//! Who may call what (`#[policy(...)]`, grants): on every transport, an allowed caller is served
//! and a refused one gets `Forbidden` naming the rule, with the handler never run; a renderer
//! without a grant can neither call, send, subscribe nor open a port on a contract; a grant
//! changed at run time applies to the next call; and what a renderer says of itself widens
//! nothing.

mod common;

use common::raw::{RawPeer, Wire};
use common::{eventually, within};
use futures_util::StreamExt;
use ipc_runtime::{
    Grant, IpcError, Main, Peer, Renderer, RendererOptions, Stream, Target, WebSocketOptions,
};
use ipc_tests::{
    ConformanceBackend, Guarded, GuardedBackend, GuardedDesk, Scenario, TEST_ORIGIN,
    guarded_desk_outcomes, guarded_outcomes,
};
use serde_json::{Value, json};
use tokio::net::UnixStream;

const PEER: &str = env!("CARGO_BIN_EXE_ipc-test-peer");

fn serve() -> (Main, GuardedBackend) {
    serve_with(Main::new())
}

fn serve_with(main: Main) -> (Main, GuardedBackend) {
    let backend = GuardedBackend::default();
    // Registered for the life of `main`.
    let _ = Guarded::handle(&main, backend.clone()).unwrap();
    (main, backend)
}

/// The outcome lines expected from `guarded_outcomes` when exactly `allowed` may be called.
fn expected(allowed: &[&str]) -> Vec<String> {
    let rules = [
        ("open", "default"),
        ("native_only", "#[policy(native)]"),
        ("pages_only", "#[policy(page)]"),
        ("main_frame_only", "#[policy(window, main_frame)]"),
        (
            "test_origin_only",
            "#[policy(origin = \"http://127.0.0.1:9\")]",
        ),
        ("admin", "#[policy(capability = \"admin\")]"),
    ];
    rules
        .iter()
        .map(|(method, rule)| {
            if allowed.contains(method) {
                format!("{method} ok")
            } else {
                format!("{method} forbidden {rule}")
            }
        })
        .collect()
}

fn assert_runs(backend: &GuardedBackend, allowed: &[&str]) {
    for method in ipc_tests::GUARDED_INVOKES {
        let runs = u32::from(allowed.contains(&method));
        assert_eq!(backend.runs(method), runs, "handler runs of `{method}`");
    }
}

/// The lines expected from `guarded_desk_outcomes` when exactly `allowed` may be called through
/// the desk's handle (its methods carry the rules of `Guarded`'s, the default aside: an object
/// has no channels a subframe could be refused).
fn expected_desk(allowed: &[&str]) -> Vec<String> {
    expected(allowed)
        .into_iter()
        .map(|line| format!("desk.{line}").replace("desk.open forbidden default", "desk.open ok"))
        .collect()
}

fn assert_desk_runs(backend: &GuardedBackend, allowed: &[&str]) {
    for method in ipc_tests::GUARDED_INVOKES {
        let runs = u32::from(allowed.contains(&method));
        let method = format!("desk.{method}");
        assert_eq!(
            backend.runs(&method),
            runs,
            "object method runs of `{method}`"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_renderers_meet_kind_origin_and_capability_rules() {
    let (main, backend) = serve();
    let plain = main.connect_in_process(RendererOptions::new("plain"));
    assert_eq!(
        guarded_outcomes(&plain).await,
        expected(&["open", "native_only"])
    );
    assert_runs(&backend, &["open", "native_only"]);
    // A handle moves to an in-process renderer as itself: its holder is code main runs, and
    // its calls are not judged (PROTOCOL.md §7.3).
    assert_eq!(
        guarded_desk_outcomes(&plain).await,
        expected_desk(&ipc_tests::GUARDED_INVOKES)
    );

    // An origin main gave an in-process renderer is vouched for by main itself.
    let (main, backend) = serve();
    let with_origin = main.connect_in_process(RendererOptions::new("page").origin(TEST_ORIGIN));
    assert_eq!(
        guarded_outcomes(&with_origin).await,
        expected(&["open", "native_only", "test_origin_only"])
    );
    assert_runs(&backend, &["open", "native_only", "test_origin_only"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_names_the_rule_and_the_caller() {
    let (main, backend) = serve();
    let renderer = main.connect_in_process(RendererOptions::new("plain"));
    let client = Guarded::client(&renderer);
    match client.pages_only().await {
        Err(IpcError::Forbidden {
            channel,
            reason,
            rule,
        }) => {
            assert_eq!(channel, "guarded:pages_only");
            assert_eq!(rule.as_deref(), Some("#[policy(page)]"));
            assert!(reason.contains("native"), "{reason}");
            assert!(reason.contains("#[policy(page)]"), "{reason}");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert_eq!(backend.total_runs(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_changed_at_run_time_applies_to_the_next_call() {
    let (main, backend) = serve();
    let renderer = main.connect_in_process(RendererOptions::new("user"));
    let client = Guarded::client(&renderer);
    assert!(matches!(
        client.admin().await,
        Err(IpcError::Forbidden { .. })
    ));
    // After a login, say.
    assert!(main.grant(renderer.id(), "admin"));
    assert_eq!(client.admin().await.unwrap(), 1);
    assert!(main.revoke(renderer.id(), "admin"));
    assert!(matches!(
        client.admin().await,
        Err(IpcError::Forbidden { .. })
    ));
    assert_eq!(backend.runs("admin"), 1);
    // Once the renderer is gone there is nothing to grant.
    let id = renderer.id();
    drop(client);
    drop(renderer);
    eventually("the renderer gone", || main.renderer(id).is_none()).await;
    assert!(!main.grant(id, "admin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_grant_a_renderer_can_neither_call_send_subscribe_nor_open_a_port() {
    let (main, backend) = serve();
    let renderer = main.connect_in_process(RendererOptions::new("guest"));
    main.set_grant(
        renderer.id(),
        Grant::contracts(["conformance"]).with_capability("admin"),
    );
    let client = Guarded::client(&renderer);
    let grant_rule = Some("grant without `guarded`".to_string());
    for result in [client.open().await, client.admin().await] {
        match result {
            Err(IpcError::Forbidden { rule, .. }) => assert_eq!(rule, grant_rule),
            other => panic!("expected Forbidden, got {other:?}"),
        }
    }
    // A stream argument opens a port: refused with the call.
    assert!(matches!(
        client.upload(Stream::from_iter(1..=3)).await,
        Err(IpcError::Forbidden { .. })
    ));
    // A send is dropped before any listener sees it (in process the sender learns it at once).
    assert!(matches!(
        client.audit("nope".into()),
        Err(IpcError::Forbidden { .. })
    ));
    // Events: subscribed locally, never delivered.
    let mut alerts = client.on_alert();
    assert_eq!(
        Guarded::events(&main).alert(Target::All, 3),
        0,
        "queued for nobody"
    );
    // (That the alert never arrives is shown below: events reach a renderer in the order they
    // were emitted, and the first it gets is the one emitted once it is granted.)
    assert_eq!(backend.total_runs(), 0, "no handler or listener ran");

    // Granted again: all of it works.
    main.set_grant(renderer.id(), Grant::all().with_capability("admin"));
    assert_eq!(client.open().await.unwrap(), 1);
    client.audit("yes".into()).unwrap();
    eventually("the audit listener ran", || backend.runs("audit") == 1).await;
    assert_eq!(Guarded::events(&main).alert(Target::All, 4), 1);
    assert_eq!(within("the alert", alerts.next()).await, Some(Ok(4)));
    assert_eq!(client.upload(Stream::from_iter(1..=3)).await.unwrap(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_only_renderers_allowed_to_receive_them() {
    let (main, _backend) = serve();
    let admin = main.connect_in_process(RendererOptions::new("admin"));
    let user = main.connect_in_process(RendererOptions::new("user"));
    main.grant(admin.id(), "admin");
    let mut admin_alerts = Guarded::client(&admin).on_alert();
    let mut user_alerts = Guarded::client(&user).on_alert();
    let events = Guarded::events(&main);
    for level in 0..100 {
        assert_eq!(events.alert(Target::All, level), 1);
    }
    for level in 0..100 {
        assert_eq!(
            within("an alert", admin_alerts.next()).await,
            Some(Ok(level))
        );
    }
    assert_eq!(events.alert(user.id(), 7), 0);
    // Nothing reached the user: granted now, the first alert it gets is the next one (events
    // reach a renderer in the order they were emitted).
    main.grant(user.id(), "admin");
    assert_eq!(events.alert(user.id(), 8), 1);
    assert_eq!(
        within("the user's first alert", user_alerts.next()).await,
        Some(Ok(8))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_renderer_is_native_and_cannot_claim_an_origin() {
    let path = common::socket_path("authz-main");
    // Main grants `admin` to processes of its own user.
    let uid = rustix::process::getuid().as_raw();
    let (main, backend) = serve_with(
        Main::builder()
            .initial_grant(move |caller| match caller.peer() {
                Peer::Unix { uid: theirs, .. } if *theirs == uid => {
                    Some(Grant::all().with_capability("admin"))
                }
                _ => None,
            })
            .build(),
    );
    let listener = main.listen_unix(&path).unwrap();
    // It says it is the test origin; main does not believe it.
    let options = RendererOptions::new("spoof").origin(TEST_ORIGIN);
    let renderer = within("connect", Renderer::connect_unix(listener.path(), options))
        .await
        .unwrap();
    assert_eq!(
        guarded_outcomes(&renderer).await,
        expected(&["open", "native_only", "admin"])
    );
    assert_runs(&backend, &["open", "native_only", "admin"]);
    // Calls through a handle main handed it are judged by the object's rules, as the renderer.
    assert_eq!(
        guarded_desk_outcomes(&renderer).await,
        expected_desk(&["open", "native_only", "admin"])
    );
    assert_desk_runs(&backend, &["open", "native_only", "admin"]);
    drop(renderer);
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_page_is_a_page_of_its_checked_origin() {
    let (main, backend) = serve();
    let endpoint = main
        .listen_websocket(WebSocketOptions::new().allow_origin(TEST_ORIGIN))
        .await
        .unwrap();
    let renderer = within(
        "connect",
        Renderer::connect_websocket(
            &endpoint.url(),
            Some(TEST_ORIGIN),
            RendererOptions::new("page"),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        guarded_outcomes(&renderer).await,
        expected(&["open", "pages_only", "test_origin_only"])
    );
    assert_runs(&backend, &["open", "pages_only", "test_origin_only"]);
    assert_eq!(
        guarded_desk_outcomes(&renderer).await,
        expected_desk(&["open", "pages_only", "test_origin_only"])
    );
    assert_desk_runs(&backend, &["open", "pages_only", "test_origin_only"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_child_is_native() {
    // Granted before its first call is served (a grant made after the spawn returned would race
    // the child's first calls).
    let (main, backend) = serve_with(
        Main::builder()
            .initial_grant(|caller| match caller.peer() {
                Peer::Child { .. } => Some(Grant::all().with_capability("admin")),
                _ => None,
            })
            .build(),
    );
    let (state, _registration) = ConformanceBackend::serve(&main).unwrap();
    let mut command = tokio::process::Command::new(PEER);
    command.args([
        "renderer-stdio",
        "child",
        Scenario::Guarded.name(),
        "binary",
    ]);
    let child = within("spawn", main.spawn_renderer(command)).await.unwrap();
    eventually("the child's report", || {
        state
            .sends_from("child")
            .iter()
            .any(|note| note == "guarded done")
    })
    .await;
    let notes: Vec<String> = state
        .sends_from("child")
        .into_iter()
        .filter(|note| note != "guarded done")
        .collect();
    let mut want = expected(&["open", "native_only", "admin"]);
    want.extend(expected_desk(&["open", "native_only", "admin"]));
    assert_eq!(notes, want);
    assert_runs(&backend, &["open", "native_only", "admin"]);
    assert_desk_runs(&backend, &["open", "native_only", "admin"]);
    main.disconnect(child.id());
}

/// A bridge connection over a socket pair, speaking raw JSON frames.
async fn bridge(main: &Main) -> RawPeer {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let accepting = main.clone();
    tokio::spawn(async move { accepting.accept_bridge(ours).await });
    let mut raw = RawPeer {
        stream: theirs,
        wire: Wire::Json,
    };
    raw.send_json(
        &json!({"t": "hello", "protocol": 1, "role": "bridge", "codec": "json",
        "label": "electron"}),
    )
    .await;
    assert_eq!(raw.expect("main's answer").await["t"], "hello");
    raw
}

fn window(id: u64, main_frame: bool) -> Value {
    json!({"id": id, "url": format!("{TEST_ORIGIN}/index.html"), "origin": TEST_ORIGIN,
        "main_frame": main_frame})
}

/// Invokes `method` of `Guarded` as `sender` and returns the reply frame.
async fn invoke_as(raw: &mut RawPeer, id: u64, method: &str, sender: Value) -> Value {
    raw.send_json(
        &json!({"t": "invoke", "id": id, "ch": format!("guarded:{method}"),
        "args": [], "sender": sender}),
    )
    .await;
    raw.expect("the reply").await
}

fn outcome(reply: &Value) -> String {
    match reply["error"]["code"].as_str() {
        None => "ok".into(),
        Some("forbidden") => format!("forbidden {}", reply["error"]["rule"].as_str().unwrap()),
        Some(code) => code.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_windows_are_windows_and_their_subframes_are_told_apart() {
    let (main, backend) = serve();
    let mut raw = bridge(&main).await;
    let mut seen = Vec::new();
    for (id, method) in ipc_tests::GUARDED_INVOKES.iter().enumerate() {
        let reply = invoke_as(&mut raw, id as u64 + 1, method, window(5, true)).await;
        seen.push(format!("{method} {}", outcome(&reply)));
    }
    assert_eq!(
        seen,
        expected(&["open", "main_frame_only", "test_origin_only"])
    );
    // The same window's iframe: the default and `main_frame` refuse it.
    let mut seen = Vec::new();
    for (id, method) in ipc_tests::GUARDED_INVOKES.iter().enumerate() {
        let reply = invoke_as(&mut raw, id as u64 + 10, method, window(5, false)).await;
        seen.push(format!("{method} {}", outcome(&reply)));
    }
    assert_eq!(seen, expected(&["test_origin_only"]));
    assert_eq!(backend.runs("open"), 1);
    assert_eq!(backend.runs("main_frame_only"), 1);
    assert_eq!(backend.runs("test_origin_only"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_cannot_name_a_window_it_is_not_the_bridge_of() {
    let (main, backend) = serve();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let accepting = main.clone();
    tokio::spawn(async move { accepting.accept(ours).await });
    let mut raw = RawPeer {
        stream: theirs,
        wire: Wire::Json,
    };
    raw.send_json(
        &json!({"t": "hello", "protocol": 1, "role": "renderer", "codec": "json",
        "label": "not a bridge"}),
    )
    .await;
    assert_eq!(raw.expect("main's answer").await["t"], "hello");
    let reply = invoke_as(&mut raw, 1, "main_frame_only", window(5, true)).await;
    assert_eq!(reply["error"]["code"], "forbidden", "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only a bridge connection"),
        "{reply}"
    );
    // As itself it is a native process.
    raw.send_json(&json!({"t": "invoke", "id": 2, "ch": "guarded:main_frame_only", "args": []}))
        .await;
    let reply = raw.expect("the reply").await;
    assert_eq!(
        reply["error"]["rule"], "#[policy(window, main_frame)]",
        "{reply}"
    );
    assert_eq!(backend.total_runs(), 0);
}

/// The next event frame on `channel` (other frames are skipped).
async fn next_event(raw: &mut RawPeer, channel: &str) -> Value {
    loop {
        let frame = raw.expect("an event").await;
        if frame["t"] == "event" && frame["ch"] == channel {
            return frame;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_withholds_events_from_windows_without_the_grant() {
    let (main, _backend) = serve();
    let mut raw = bridge(&main).await;
    // Windows 5 and 6 make themselves known; 7 never calls (main does not know it).
    for (id, window_id) in [(1, 5), (2, 6)] {
        let reply = invoke_as(&mut raw, id, "open", window(window_id, true)).await;
        assert_eq!(outcome(&reply), "ok", "{reply}");
    }
    let window_of = |n: u64| {
        main.renderers()
            .into_iter()
            .find(|c| matches!(c.peer(), Peer::BridgeWindow { window, .. } if *window == n))
            .unwrap()
            .renderer()
    };
    let bridge_id = main
        .renderers()
        .into_iter()
        .find(|c| !matches!(c.peer(), Peer::BridgeWindow { .. }))
        .unwrap()
        .renderer();

    // Only window 5 holds `admin`: the event goes to it alone.
    main.grant(window_of(5), "admin");
    let events = Guarded::events(&main);
    assert_eq!(events.alert(Target::All, 1), 1);
    let event = next_event(&mut raw, "guarded:alert").await;
    assert_eq!(
        (event["to"].as_u64(), &event["args"]),
        (Some(5), &json!([1]))
    );

    // The bridge holds it too (so do windows main has not met): one fan-out, without window 6.
    main.grant(bridge_id, "admin");
    main.grant(window_of(5), "admin");
    assert_eq!(events.alert(Target::All, 2), 1);
    let event = next_event(&mut raw, "guarded:alert").await;
    assert_eq!(event["to"], Value::Null, "{event}");
    assert_eq!(event["except"], json!([6]), "{event}");

    // Addressed to window 6 alone: not queued at all.
    assert_eq!(events.alert(window_of(6), 3), 0);

    // Window 5 navigates to a page of another origin: a new principal, with a fresh grant
    // (its bridge's), while a page of its own origin keeps what was granted.
    main.revoke(bridge_id, "admin");
    let same_origin = json!({"id": 5, "url": format!("{TEST_ORIGIN}/other.html"),
        "origin": TEST_ORIGIN, "main_frame": true});
    let reply = invoke_as(&mut raw, 10, "admin", same_origin).await;
    assert_eq!(outcome(&reply), "ok", "{reply}");
    let elsewhere = json!({"id": 5, "url": "app://elsewhere/index.html",
        "origin": "app://elsewhere", "main_frame": true});
    let reply = invoke_as(&mut raw, 11, "admin", elsewhere).await;
    assert_eq!(
        outcome(&reply),
        "forbidden #[policy(capability = \"admin\")]",
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_speaks_json_where_windows_can_be_named() {
    let main = Main::new();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let accepting = main.clone();
    let accepted = tokio::spawn(async move { accepting.accept_bridge(ours).await });
    let mut raw = RawPeer {
        stream: theirs,
        wire: Wire::Json,
    };
    raw.send_json(
        &json!({"t": "hello", "protocol": 1, "role": "bridge", "codec": "binary",
        "label": "electron"}),
    )
    .await;
    let refusal = raw.expect("main's refusal").await;
    assert_eq!(refusal["error"]["code"], "protocol", "{refusal}");
    assert!(matches!(
        within("the refusal", accepted).await.unwrap(),
        Err(IpcError::Protocol { .. })
    ));
}

/// A capability's rules are judged at each call with the holder's grant as it is then: one
/// handle, refused, allowed once main grants `admin`, refused again once it revokes it. The
/// refusal names the object's channel, the rule and the holder; the method never runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_changed_at_run_time_applies_to_the_next_call_through_a_handle() {
    let path = common::socket_path("authz-desk-grant");
    let (main, backend) = serve();
    let listener = main.listen_unix(&path).unwrap();
    let renderer = within(
        "connect",
        Renderer::connect_unix(listener.path(), RendererOptions::new("holder")),
    )
    .await
    .unwrap();
    let desk = within("the desk", Guarded::client(&renderer).desk())
        .await
        .unwrap()
        .client();
    let refused = within("admin", desk.admin()).await.unwrap_err();
    match &refused {
        ipc_runtime::CallError::Ipc(IpcError::Forbidden {
            channel,
            reason,
            rule,
        }) => {
            assert_eq!(channel, "guarded_desk:admin");
            assert_eq!(rule.as_deref(), Some("#[policy(capability = \"admin\")]"));
            assert!(
                reason.contains(&format!("native {}", renderer.id())),
                "{reason}"
            );
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
    assert_eq!(backend.runs("desk.admin"), 0);

    assert!(main.grant(renderer.id(), "admin"));
    assert_eq!(within("admin, granted", desk.admin()).await, Ok(1));
    assert!(main.revoke(renderer.id(), "admin"));
    assert!(matches!(
        within("admin, revoked", desk.admin()).await,
        Err(ipc_runtime::CallError::Ipc(IpcError::Forbidden { .. }))
    ));
    assert_eq!(backend.runs("desk.admin"), 1);
    // The handle itself still serves what the holder may call.
    assert_eq!(within("open", desk.open()).await, Ok(1));
    drop(listener);
}

/// A call through a handle that cannot run is answered, and the handle serves on
/// (`docs/PROTOCOL.md` §7.3): a method the holder may not call is `forbidden` whatever its
/// arguments (judged before they are read), arguments that are not the method's are
/// `bad_arguments`, a method the capability does not have is `no_handler`. Over JSON, and over
/// MessagePack both as every peer writes a call (read by hand) and with its keys in another
/// order (read by serde).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_through_a_handle_that_cannot_run_is_answered_and_the_handle_serves_on() {
    #[derive(serde::Serialize)]
    struct PortFrame {
        t: &'static str,
        port: u64,
        data: CallMessage,
    }
    #[derive(serde::Serialize)]
    struct CallMessage {
        t: &'static str,
        id: u64,
        call: CallBody,
    }
    #[derive(serde::Serialize)]
    struct CallBody {
        m: &'static str,
        args: Value,
    }

    let path = common::socket_path("authz-desk-unrunnable");
    let (main, backend) = serve();
    let listener = main.listen_unix(&path).unwrap();
    for (wire, as_written) in [
        (Wire::Json, false),
        (Wire::MessagePack, true),
        (Wire::MessagePack, false),
    ] {
        let mut raw = RawPeer::renderer(listener.path(), wire).await;
        raw.send_value(&json!({"t": "invoke", "id": 1, "ch": "guarded:desk", "args": []}))
            .await;
        let reply = loop {
            let frame = raw.expect("the desk").await;
            if frame["t"] == "reply" {
                break frame;
            }
        };
        let port = reply["ok"]["port"].as_u64().expect("a handle: {reply}");
        for (id, (method, args, code)) in [
            ("admin", json!([]), "forbidden"),
            ("admin", json!({"not": "arguments"}), "forbidden"),
            ("admin", json!(["x", 1, [2.5, null]]), "forbidden"),
            ("open", json!(7), "bad_arguments"),
            ("open", json!({"a": 1}), "bad_arguments"),
            ("launch", json!([]), "no_handler"),
            ("open", json!([]), "ok"),
        ]
        .into_iter()
        .enumerate()
        {
            let id = id as u64 + 1;
            let call = CallMessage {
                t: "call",
                id,
                call: CallBody { m: method, args },
            };
            if as_written {
                let frame = PortFrame {
                    t: "port",
                    port,
                    data: call,
                };
                raw.send(&rmp_serde::to_vec_named(&frame).unwrap()).await;
            } else {
                let data = serde_json::to_value(&call).unwrap();
                raw.send_value(&json!({"t": "port", "port": port, "data": data}))
                    .await;
            }
            let answer = port_answer(&mut raw, port).await;
            let said =
                format!("{wire:?} (as every peer writes it: {as_written}) {method}: {answer}");
            assert_eq!(answer["id"], id, "{said}");
            if code == "ok" {
                assert!(answer["reply"]["outcome"]["Ok"].is_u64(), "{said}");
            } else {
                assert_eq!(answer["error"]["code"], code, "{said}");
                assert_eq!(
                    answer["error"]["channel"],
                    format!("guarded_desk:{method}"),
                    "{said}"
                );
            }
        }
    }
    assert_eq!(backend.runs("desk.admin"), 0);
    assert_eq!(backend.runs("desk.open"), 3);
    drop(listener);
}

/// The next message the object sends on `port` (a raw bridge's handle), other frames skipped.
async fn port_answer(raw: &mut RawPeer, port: u64) -> Value {
    loop {
        let frame = raw.expect("the object's answer").await;
        if frame["t"] == "port" && frame["port"] == port {
            return frame["data"].clone();
        }
    }
}

/// Calls each method of a desk through the handle on `port` (a raw bridge's), as the
/// `"desk.<method> <outcome>"` lines of `expected_desk`; a refusal's reason must contain
/// `reason`.
async fn desk_outcomes_on_port(raw: &mut RawPeer, port: u64, reason: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for (id, method) in ipc_tests::GUARDED_INVOKES.iter().enumerate() {
        raw.send_json(&json!({"t": "port", "port": port,
            "data": {"t": "call", "id": id + 1, "call": {"m": method, "args": []}}}))
            .await;
        let answer = port_answer(raw, port).await;
        assert_eq!(answer["id"], id + 1, "{answer}");
        if answer["error"]["code"] == "forbidden" {
            let said = answer["error"]["reason"].as_str().unwrap_or_default();
            assert!(said.contains(reason), "{answer}");
        }
        seen.push(format!("desk.{method} {}", outcome(&answer)));
    }
    seen
}

/// A handle main hands a window behind a bridge (in the reply to the window's call) is that
/// window's, judged as the window was when it called: its origin and whether it called from
/// its main frame. One handed to the bridge itself (its own call, naming no window) is judged as
/// a window main cannot name: a rule naming an origin or the main frame refuses it, and says
/// why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_behind_a_bridge_is_judged_as_the_window_it_was_handed_to() {
    let (main, backend) = serve();
    let mut raw = bridge(&main).await;
    let reply = invoke_as(&mut raw, 1, "desk", window(5, true)).await;
    let port = reply["ok"]["port"].as_u64().expect("a handle: {reply}");
    assert_eq!(reply["ports"], json!([port]), "{reply}");
    // Another frame of the window calls meanwhile: the handle stays the main frame's.
    invoke_as(&mut raw, 2, "open", window(5, false)).await;
    assert_eq!(
        desk_outcomes_on_port(&mut raw, port, "(http://127.0.0.1:9, main frame)").await,
        expected_desk(&["open", "main_frame_only", "test_origin_only"])
    );
    assert_desk_runs(&backend, &["open", "main_frame_only", "test_origin_only"]);

    // A desk main hands the window in an event naming it: its main frame, where the bridge
    // delivers events; its last call came from an iframe, so main cannot vouch for the main
    // frame's origin.
    let renderer = main
        .renderers()
        .into_iter()
        .find(|caller| matches!(caller.peer(), Peer::BridgeWindow { window: 5, .. }))
        .expect("window 5 is known");
    let given =
        Guarded::events(&main).desk_given(renderer.renderer(), GuardedDesk::serve(backend.clone()));
    assert_eq!(given, 1);
    let event = raw.expect("the event").await;
    assert_eq!(
        (&event["t"], &event["to"]),
        (&json!("event"), &json!(5)),
        "{event}"
    );
    let port = event["args"][0]["port"]
        .as_u64()
        .expect("a handle: {event}");
    assert_eq!(
        desk_outcomes_on_port(&mut raw, port, "main frame").await,
        expected_desk(&["open", "main_frame_only"])
    );

    // The same window's iframe gets a desk: `main_frame` refuses it.
    let (main, backend) = serve();
    let mut raw = bridge(&main).await;
    let reply = invoke_as(&mut raw, 1, "desk", window(6, false)).await;
    let port = reply["ok"]["port"].as_u64().expect("a handle: {reply}");
    assert_eq!(
        desk_outcomes_on_port(&mut raw, port, "a subframe").await,
        expected_desk(&["open", "test_origin_only"])
    );
    assert_desk_runs(&backend, &["open", "test_origin_only"]);

    // The bridge's own call: no window to vouch for.
    let (main, backend) = serve();
    let mut raw = bridge(&main).await;
    raw.send_json(&json!({"t": "invoke", "id": 1, "ch": "guarded:desk", "args": []}))
        .await;
    let reply = raw.expect("the reply").await;
    let port = reply["ok"]["port"].as_u64().expect("a handle: {reply}");
    assert_eq!(
        desk_outcomes_on_port(&mut raw, port, "behind bridge").await,
        expected_desk(&["open"])
    );
    assert_desk_runs(&backend, &["open"]);
}

/// A window's grant belongs to its page's origin: once a frame of another origin in the window
/// called, `Main::grant`/`Main::revoke` change that origin's grant, and a handle the first page
/// got holds no named capability any more, so a revocation made then is never missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_windows_handle_never_outlives_a_revoked_grant() {
    let (main, backend) = serve();
    let mut raw = bridge(&main).await;
    let reply = invoke_as(&mut raw, 1, "desk", window(5, true)).await;
    let port = reply["ok"]["port"].as_u64().expect("a handle: {reply}");
    let renderer = main
        .renderers()
        .into_iter()
        .find(|caller| matches!(caller.peer(), Peer::BridgeWindow { window: 5, .. }))
        .expect("window 5 is known")
        .renderer();
    let admin = |id: u64| {
        json!({"t": "port", "port": port,
            "data": {"t": "call", "id": id, "call": {"m": "admin", "args": []}}})
    };
    assert!(main.grant(renderer, "admin"));
    raw.send_json(&admin(1)).await;
    assert_eq!(port_answer(&mut raw, port).await["t"], "reply");
    // An iframe of another origin calls: the window's grant is now that origin's.
    let other = json!({"id": 5, "url": "http://other.example/frame.html",
        "origin": "http://other.example", "main_frame": false});
    invoke_as(&mut raw, 2, "open", other).await;
    assert!(main.revoke(renderer, "admin"));
    raw.send_json(&admin(2)).await;
    let refused = port_answer(&mut raw, port).await;
    assert_eq!(refused["error"]["code"], "forbidden", "{refused}");
    assert_eq!(backend.runs("desk.admin"), 1);
}
