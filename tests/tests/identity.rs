//! What main knows of a renderer that the renderer cannot choose (`Caller::peer`): the kernel's
//! record of a Unix socket peer, a spawned child's pid, a WebSocket upgrade's checked `Origin`,
//! a bridge window's id. What a renderer says of itself (its label, an origin or a sender in its
//! frames) changes none of it. And the local endpoint those checks rest on: a Unix socket only
//! its user can connect to, in a directory no other user can replace it in.

mod common;

use std::net::SocketAddr;

use common::raw::{RawPeer, Wire};
use common::{eventually, within};
use ipc_runtime::{Main, Peer, Renderer, RendererOptions, WebSocketOptions};
use ipc_tests::{ConformanceBackend, TEST_ORIGIN};
use serde_json::json;
use tokio::net::UnixStream;

const PEER: &str = env!("CARGO_BIN_EXE_ipc-test-peer");

/// This test process as the kernel describes it to a Unix socket's other end.
fn this_process() -> Peer {
    Peer::Unix {
        pid: Some(std::process::id()),
        uid: rustix::process::getuid().as_raw(),
        gid: rustix::process::getgid().as_raw(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_process_renderer_is_in_process() {
    let main = Main::new();
    let renderer = main.connect_in_process(RendererOptions::new("window"));
    let caller = main.renderer(renderer.id()).unwrap();
    assert_eq!(caller.peer(), &Peer::InProcess);
    assert_eq!(caller.peer().pid(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_peer_is_who_the_kernel_says() {
    let path = common::socket_path("identity-main");
    let main = Main::new();
    let listener = main.listen_unix(&path).unwrap();
    // The label claims to be a bank's page: a label, nothing more.
    let options = RendererOptions::new("https://bank.example");
    let renderer = within("connect", Renderer::connect_unix(listener.path(), options))
        .await
        .unwrap();
    let caller = main.renderer(renderer.id()).unwrap();
    assert_eq!(caller.peer(), &this_process());
    assert_eq!(
        caller.peer().uid(),
        Some(rustix::process::getuid().as_raw())
    );
    assert_eq!(caller.label(), "https://bank.example");
    assert_eq!(caller.origin(), None, "a socket renderer has no origin");
    drop(renderer);
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_child_is_its_pid() {
    let main = Main::new();
    let (_state, _registration) = ConformanceBackend::serve(&main).unwrap();
    let mut command = tokio::process::Command::new(PEER);
    command.args(["renderer-stdio", "child", "hello", "json"]);
    let child = within("spawn", main.spawn_renderer(command)).await.unwrap();
    let pid = child.pid().expect("a running child has a pid");
    let caller = main.renderer(child.id()).unwrap();
    assert_eq!(caller.peer(), &Peer::Child { pid });
    assert_eq!(caller.peer().pid(), Some(pid));
    main.disconnect(child.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_page_is_its_checked_origin_and_address() {
    let main = Main::new();
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
    let caller = main.renderer(renderer.id()).unwrap();
    match caller.peer() {
        Peer::WebSocket { address, origin } => {
            assert!(address.ip().is_loopback(), "{address}");
            assert_ne!(*address, SocketAddr::from(([127, 0, 0, 1], 0)));
            assert_eq!(origin.as_deref(), Some(TEST_ORIGIN));
        }
        other => panic!("expected a WebSocket peer, got {other:?}"),
    }
    assert_eq!(caller.origin(), Some(TEST_ORIGIN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_cannot_claim_an_origin_or_a_window() {
    let main = Main::new();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let accepting = main.clone();
    tokio::spawn(async move { accepting.accept(ours).await });
    let mut raw = RawPeer {
        stream: theirs,
        wire: Wire::Json,
    };
    // Fields a page would like to set for itself: an origin, a frame URL, a pid.
    raw.send_json(
        &json!({"t": "hello", "protocol": 1, "role": "renderer", "codec": "json",
        "label": "spoof", "origin": "https://bank.example", "frame_url": "https://bank.example/",
        "pid": 1}),
    )
    .await;
    let hello = raw.expect("main's answer").await;
    assert_eq!(hello["t"], "hello", "{hello}");
    let id = hello["renderer"].as_u64().unwrap();
    let caller = main
        .renderers()
        .into_iter()
        .find(|c| c.renderer().get() == id)
        .unwrap();
    assert_eq!(caller.origin(), None);
    assert_eq!(caller.frame_url(), None);
    assert_eq!(caller.peer(), &this_process());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_behind_a_bridge_is_the_bridge_and_its_window() {
    let main = Main::new();
    let (_state, _registration) = ConformanceBackend::serve(&main).unwrap();
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
    raw.send_json(
        &json!({"t": "send", "ch": "conformance:note", "args": ["from window 7"],
        "sender": {"id": 7, "url": "app://main/index.html", "origin": "app://main",
            "main_frame": false}}),
    )
    .await;
    // No policy is declared: a subframe's send is refused by the default (and told so), but
    // the window is known.
    let refusal = raw.expect("the default policy's refusal").await;
    assert_eq!(refusal["t"], "error", "{refusal}");
    assert_eq!(refusal["error"]["code"], "forbidden", "{refusal}");
    assert_eq!(refusal["error"]["rule"], "default", "{refusal}");
    eventually("window 7 registered", || main.renderer_count() == 2).await;
    let window = main
        .renderers()
        .into_iter()
        .find(|c| c.origin() == Some("app://main"))
        .unwrap();
    let bridge = this_process();
    match window.peer() {
        Peer::BridgeWindow {
            bridge: seen,
            window,
            main_frame,
        } => {
            assert_eq!((**seen).clone(), bridge);
            assert_eq!(*window, 7);
            assert_eq!(*main_frame, Some(false), "the bridge said: an iframe");
        }
        other => panic!("expected a bridge window, got {other:?}"),
    }
    assert_eq!(window.peer().pid(), Some(std::process::id()));

    // The bridge's own connection answers no requests (its windows do): refused at once, and
    // nothing is written to the bridge.
    const ASK: ipc_runtime::InvokeChannel<(), bool, ipc_runtime::Never> =
        ipc_runtime::InvokeChannel::new("app:ask");
    let bridge_id = main
        .renderers()
        .into_iter()
        .find(|c| c.origin().is_none())
        .unwrap()
        .renderer();
    match within("the refused request", main.request(bridge_id, ASK, ())).await {
        Err(ipc_runtime::CallError::Ipc(ipc_runtime::IpcError::NoHandler { channel })) => {
            assert_eq!(channel, "app:ask");
        }
        other => panic!("expected NoHandler, got {other:?}"),
    }
    raw.send_json(&json!({"t": "ping", "id": 99})).await;
    assert_eq!(raw.expect("the pong").await, json!({"t": "pong", "id": 99}));

    // A request to the window, then the window goes (detach): the request fails at once with
    // `disconnected`, not at its deadline.
    let asking = tokio::spawn(
        main.request(window.renderer(), ASK, ())
            .timeout(std::time::Duration::from_secs(600)),
    );
    let invoke = raw.expect("the request to window 7").await;
    assert_eq!(
        (invoke["t"].as_str(), invoke["to"].as_u64()),
        (Some("invoke"), Some(7))
    );
    raw.send_json(&json!({"t": "detach", "sender": 7})).await;
    match within("the request to end with its window", asking)
        .await
        .unwrap()
    {
        Err(ipc_runtime::CallError::Ipc(ipc_runtime::IpcError::Disconnected { .. })) => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert_eq!(window.frame_url(), Some("app://main/index.html"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_is_owner_only_and_never_in_a_directory_others_can_write() {
    use std::os::unix::fs::PermissionsExt;
    let base = std::env::temp_dir().join(format!("ipc-perms-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let mode_of = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    let main = Main::new();

    // A private directory: the socket is made 0600.
    let private = base.join("private");
    std::fs::create_dir_all(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let listener = main.listen_unix(private.join("main.sock")).unwrap();
    assert_eq!(mode_of(listener.path()) & 0o777, 0o600);
    let renderer = within(
        "connect",
        Renderer::connect_unix(listener.path(), RendererOptions::new("r")),
    )
    .await
    .unwrap();
    assert!(!renderer.is_closed());

    // Writable by everyone, no sticky bit: anyone could swap the socket. Refused, nothing bound.
    let open = base.join("open");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let error = main.listen_unix(open.join("main.sock")).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(error.to_string().contains("no sticky bit"), "{error}");
    assert!(!open.join("main.sock").exists());

    // Writable by the group only: refused the same way.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o770)).unwrap();
    assert!(main.listen_unix(open.join("main.sock")).is_err());

    // The sticky bit (as /tmp has) keeps others from removing what is not theirs: allowed.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let sticky = main.listen_unix(open.join("main.sock")).unwrap();
    assert_eq!(mode_of(sticky.path()) & 0o777, 0o600);
    // A directory of another user (made so where the test may chown: as root).
    let theirs = base.join("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    if std::os::unix::fs::chown(&theirs, Some(12345), None).is_ok() {
        let error = main.listen_unix(theirs.join("main.sock")).unwrap_err();
        assert!(
            error.to_string().contains("belongs to user 12345"),
            "{error}"
        );
    }
    drop((renderer, listener, sticky));
    let _ = std::fs::remove_dir_all(&base);
}
