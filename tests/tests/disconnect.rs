//! Disconnects: `Main::disconnect(id)` and `Main::shutdown()` fail pending calls promptly with
//! `IpcError::Disconnected`, cancel their handlers on main, and make `Renderer::closed()` return
//! a reason; other renderers keep being served; `Main::renderers()` stops listing a renderer
//! once main has cleaned up (asynchronously, so the tests poll for it).

mod common;

use common::{Probe, ProbeBackend, ProbeClient, ProbeControl, eventually, within};
use ipc_runtime::{IpcError, Main, Renderer, RendererOptions};

fn setup() -> (Main, ProbeControl) {
    let main = Main::new();
    let (backend, control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    (main, control)
}

fn connect(main: &Main, label: &str) -> (Renderer, ProbeClient) {
    let renderer = main.connect_in_process(RendererOptions::new(label));
    let client = Probe::client(&renderer);
    (renderer, client)
}

fn spawn_block(client: &ProbeClient, tag: u32) -> tokio::task::JoinHandle<Result<u32, IpcError>> {
    let client = client.clone();
    tokio::spawn(async move { client.block(tag).await })
}

fn is_disconnected(result: &Result<u32, IpcError>) -> bool {
    matches!(result, Err(IpcError::Disconnected { .. }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_fails_pending_calls_and_closes_the_renderer() {
    let (main, mut control) = setup();
    let (renderer, client) = connect(&main, "doomed");
    let id = renderer.id();
    let pending = [spawn_block(&client, 1), spawn_block(&client, 2)];
    control.wait_started(2).await;
    assert!(!renderer.is_closed());

    assert!(main.disconnect(id));
    for call in pending {
        let result = within("the pending call to fail", call).await.unwrap();
        assert!(is_disconnected(&result), "{result:?}");
    }
    let reason = within("closed()", renderer.closed()).await;
    assert!(!reason.is_empty());
    assert!(reason.contains("closed by main"), "{reason}");
    assert!(renderer.is_closed());

    // The running handlers were cancelled on main.
    let mut dropped = [control.wait_dropped().await, control.wait_dropped().await];
    dropped.sort_unstable();
    assert_eq!(dropped, [1, 2]);

    // New calls fail at once, with the reason (sends: see the ignored test below).
    match client.echo(1).await {
        Err(IpcError::Disconnected { reason: why }) => assert_eq!(why, reason),
        other => panic!("expected Disconnected, got {other:?}"),
    }

    eventually("main forgets the renderer", || {
        main.renderers().iter().all(|c| c.renderer() != id)
    })
    .await;
    assert!(main.renderer(id).is_none());
    assert!(!main.disconnect(id), "already gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_renderers_keep_being_served_after_one_is_disconnected() {
    let (main, mut control) = setup();
    let (doomed, doomed_client) = connect(&main, "doomed");
    let (survivor, survivor_client) = connect(&main, "survivor");
    let survivor_call = spawn_block(&survivor_client, 10);
    let doomed_call = spawn_block(&doomed_client, 20);
    let mut started = control.wait_started(2).await;
    started.sort_unstable();
    assert_eq!(started, [10, 20]);

    main.disconnect(doomed.id());
    assert!(is_disconnected(
        &within("the doomed call", doomed_call).await.unwrap()
    ));
    assert_eq!(control.wait_dropped().await, 20, "only the doomed call");

    // The survivor's running call is untouched, and it keeps being served.
    control.release.add_permits(1);
    assert_eq!(
        within("survivor call", survivor_call).await.unwrap(),
        Ok(10)
    );
    assert_eq!(survivor_client.echo(5).await, Ok(5));
    assert!(!survivor.is_closed());

    eventually("main forgets the doomed renderer", || {
        main.renderers()
            .iter()
            .map(|c| c.label().to_string())
            .collect::<Vec<_>>()
            == ["survivor"]
    })
    .await;
    assert_eq!(main.renderer_count(), 1);

    // And new renderers can still connect.
    let (_late, late_client) = connect(&main, "late");
    assert_eq!(late_client.echo(6).await, Ok(6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_fails_every_pending_call_and_closes_every_renderer() {
    let (main, mut control) = setup();
    let (a, client_a) = connect(&main, "a");
    let (b, client_b) = connect(&main, "b");
    let pending = [
        spawn_block(&client_a, 1),
        spawn_block(&client_a, 2),
        spawn_block(&client_b, 3),
    ];
    control.wait_started(3).await;

    main.shutdown();
    for call in pending {
        let result = within("a pending call to fail", call).await.unwrap();
        assert!(is_disconnected(&result), "{result:?}");
    }
    for renderer in [&a, &b] {
        let reason = within("closed()", renderer.closed()).await;
        assert!(!reason.is_empty());
    }
    let mut dropped = Vec::new();
    for _ in 0..3 {
        dropped.push(control.wait_dropped().await);
    }
    dropped.sort_unstable();
    assert_eq!(dropped, [1, 2, 3], "every running handler was cancelled");

    eventually("main forgets every renderer", || {
        main.renderers().is_empty()
    })
    .await;
    assert!(is_disconnected(&client_b.echo(1).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_shutdown_new_renderers_are_refused() {
    let (main, _control) = setup();
    main.shutdown();
    let (late, client) = connect(&main, "late");
    let result = within("a call after shutdown", client.echo(1)).await;
    assert!(is_disconnected(&result), "{result:?}");
    within("closed()", late.closed()).await;
    eventually("main forgets the renderer", || main.renderers().is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_handle_of_a_renderer_disconnects_it() {
    let (main, _control) = setup();
    let (renderer, client) = connect(&main, "leaving");
    let (_stay, stay_client) = connect(&main, "staying");
    assert_eq!(client.echo(1).await, Ok(1));
    assert_eq!(main.renderer_count(), 2);
    drop(client);
    drop(renderer);
    eventually("main forgets the dropped renderer", || {
        main.renderers().len() == 1 && main.renderers()[0].label() == "staying"
    })
    .await;
    assert_eq!(stay_client.echo(2).await, Ok(2));
}

#[tokio::test]
async fn renderers_lists_every_connected_renderer_in_id_order() {
    let (main, _control) = setup();
    assert!(main.renderers().is_empty());
    let (a, _) = connect(&main, "a");
    let (b, _) = connect(&main, "b");
    let (c, _) = connect(&main, "c");
    let listed: Vec<_> = main
        .renderers()
        .iter()
        .map(|caller| (caller.renderer(), caller.label().to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            (a.id(), "a".into()),
            (b.id(), "b".into()),
            (c.id(), "c".into())
        ]
    );
    assert_eq!(main.renderer_count(), 3);
    assert!(a.id() < b.id() && b.id() < c.id());
}

/// Once `closed()` has returned, a send must fail with `Disconnected` too (as calls do), not be
/// accepted and silently lost. Repeated because it is a race with main's cleanup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_after_closed_fails_with_disconnected() {
    let (main, _control) = setup();
    for round in 0..200 {
        let (renderer, client) = connect(&main, "doomed");
        main.disconnect(renderer.id());
        within("closed()", renderer.closed()).await;
        assert!(
            matches!(
                client.note("late".into()),
                Err(IpcError::Disconnected { .. })
            ),
            "round {round}: a send after closed() was accepted"
        );
    }
}
