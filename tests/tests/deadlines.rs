//! Deadlines and cancellation: `.timeout(d)` fails a call with `IpcError::Timeout`; dropping a
//! call future (through `tokio::time::timeout`, `select!`, or a timeout) cancels the handler on
//! main, proven by a guard in the handler whose `Drop` reports it; `RendererOptions` sets the
//! renderer's default deadline.
//!
//! Tests that need time to pass run on paused Tokio time (`start_paused`): the clock only jumps
//! when every task is idle, so a handler is known to be running before its deadline passes. Only
//! the blocking calls (`Call::wait`) wait for real: their waiting thread is outside Tokio's clock,
//! and the race of a reply against its deadline is the point of the last test.

mod common;

use std::future::IntoFuture;
use std::time::Duration;

use common::{Probe, ProbeBackend, ProbeClient, ProbeControl, within};
use ipc_runtime::{DEFAULT_CALL_TIMEOUT, IpcError, Main, RendererOptions};

fn setup(options: RendererOptions) -> (Main, ProbeClient, ProbeControl) {
    let main = Main::new();
    let (backend, control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    let client = Probe::client(&main.connect_in_process(options));
    (main, client, control)
}

fn timeout(channel: &str, after: Duration) -> IpcError {
    IpcError::Timeout {
        channel: channel.into(),
        after,
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_deadline_fails_the_call_with_timeout_and_cancels_the_handler() {
    let (_main, client, mut control) = setup(RendererOptions::new("w"));
    let limit = Duration::from_millis(50);
    assert_eq!(
        client.block(1).timeout(limit).await,
        Err(timeout("probe:block", limit))
    );
    assert_eq!(control.wait_started(1).await, [1]);
    assert_eq!(control.wait_dropped().await, 1, "the handler was dropped");
    assert_eq!(client.echo(2).await, Ok(2), "main keeps serving");
}

#[tokio::test(start_paused = true)]
async fn a_fallible_call_times_out_as_a_framework_error() {
    /// A contract with a fallible slow method.
    #[ipc_runtime::channels(namespace = "slow")]
    trait Slow {
        /// Sleeps, then fails.
        async fn fail_later(&self, millis: u32) -> Result<u32, String>;
    }
    struct Backend;
    impl SlowHandler for Backend {
        async fn fail_later(&self, _: &ipc_runtime::Caller, millis: u32) -> Result<u32, String> {
            tokio::time::sleep(Duration::from_millis(u64::from(millis))).await;
            Err("too late anyway".into())
        }
    }
    let main = Main::new();
    let _registration = Slow::handle(&main, Backend).unwrap();
    let client = Slow::client(&main.connect_in_process(RendererOptions::new("w")));
    let limit = Duration::from_secs(1);
    assert_eq!(
        client.fail_later(5_000).timeout(limit).await,
        Err(ipc_runtime::CallError::Ipc(timeout(
            "slow:fail_later",
            limit
        )))
    );
    assert_eq!(
        client.fail_later(10).timeout(limit).await,
        Err(ipc_runtime::CallError::App("too late anyway".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_deadline_on_real_time() {
    let (_main, client, _control) = setup(RendererOptions::new("w"));
    let limit = Duration::from_millis(20);
    assert_eq!(
        within("the timed-out call", client.block(1).timeout(limit)).await,
        Err(timeout("probe:block", limit))
    );
    assert_eq!(client.echo(3).await, Ok(3));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_call_through_tokio_timeout_cancels_the_handler() {
    let (_main, client, mut control) = setup(RendererOptions::new("w"));
    let outcome = tokio::time::timeout(Duration::from_millis(10), client.block(7)).await;
    assert!(outcome.is_err(), "the outer timeout fired: {outcome:?}");
    assert_eq!(control.wait_started(1).await, [7]);
    assert_eq!(control.wait_dropped().await, 7);
    assert_eq!(client.echo(1).await, Ok(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_call_in_select_cancels_the_handler() {
    let (_main, client, mut control) = setup(RendererOptions::new("w"));
    tokio::select! {
        result = client.block(3) => panic!("the call cannot finish unreleased: {result:?}"),
        tag = control.started.recv() => assert_eq!(tag, Some(3)),
    }
    // The select dropped the call future once the handler was running on main.
    assert_eq!(control.wait_dropped().await, 3);

    // A call that was not dropped is not cancelled.
    let kept = tokio::spawn({
        let client = client.clone();
        async move { client.block(4).await }
    });
    assert_eq!(control.wait_started(1).await, [4]);
    control.release.add_permits(1);
    assert_eq!(within("the kept call", kept).await.unwrap(), Ok(4));
    assert!(control.dropped.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_the_task_that_awaits_the_call_cancels_the_handler() {
    let (_main, client, mut control) = setup(RendererOptions::new("w"));
    let task = tokio::spawn(async move { client.block(5).await });
    assert_eq!(control.wait_started(1).await, [5]);
    task.abort();
    assert_eq!(control.wait_dropped().await, 5);
}

#[tokio::test(start_paused = true)]
async fn the_renderer_default_timeout_applies_to_calls_without_their_own() {
    let default = Duration::from_millis(50);
    let renderer_options = RendererOptions::new("w").default_timeout(default);
    let (_main, client, mut control) = setup(renderer_options);
    assert_eq!(client.renderer().default_timeout(), Some(default));

    assert_eq!(client.nap(1_000).await, Err(timeout("probe:nap", default)));
    assert_eq!(client.block(1).await, Err(timeout("probe:block", default)));
    assert_eq!(control.wait_dropped().await, 1, "and cancels the handler");

    // A call's own deadline replaces the default, longer or shorter.
    assert_eq!(
        client.nap(1_000).timeout(Duration::from_secs(2)).await,
        Ok(1_000)
    );
    let short = Duration::from_millis(5);
    assert_eq!(
        client.nap(20).timeout(short).await,
        Err(timeout("probe:nap", short))
    );
    assert_eq!(client.nap(100_000).no_timeout().await, Ok(100_000));
    assert_eq!(client.nap(10).await, Ok(10), "fast calls are unaffected");
}

#[tokio::test(start_paused = true)]
async fn without_options_calls_have_the_default_deadline_and_can_opt_out() {
    let (main, client, _control) = setup(RendererOptions::new("w"));
    assert_eq!(
        client.renderer().default_timeout(),
        Some(DEFAULT_CALL_TIMEOUT)
    );
    let over = DEFAULT_CALL_TIMEOUT.as_millis() as u32 + 1_000;
    assert_eq!(
        client.nap(over).await,
        Err(timeout("probe:nap", DEFAULT_CALL_TIMEOUT))
    );

    let patient = Probe::client(
        &main.connect_in_process(RendererOptions::new("patient").no_default_timeout()),
    );
    assert_eq!(patient.renderer().default_timeout(), None);
    assert_eq!(patient.nap(over).await, Ok(over));
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_call_does_not_disturb_the_others_in_flight() {
    let (_main, client, mut control) = setup(RendererOptions::new("w"));
    let kept = tokio::spawn({
        let client = client.clone();
        async move { client.block(1).await }
    });
    assert_eq!(control.wait_started(1).await, [1]);
    let limit = Duration::from_millis(30);
    assert_eq!(
        client.block(2).timeout(limit).await,
        Err(timeout("probe:block", limit))
    );
    assert_eq!(control.wait_dropped().await, 2);
    control.release.add_permits(1);
    assert_eq!(kept.await.unwrap(), Ok(1));
}

/// A blocking call on a current-thread runtime that no thread drives (its `block_on` returned)
/// cannot run: it answers `Timeout` past its deadline and a grace, instead of blocking for good.
#[test]
fn a_blocking_call_on_a_runtime_nobody_drives_times_out() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_main, client, _control) = runtime.block_on(async { setup(RendererOptions::new("idle")) });
    let started = std::time::Instant::now();
    let outcome = ipc_runtime::Call::from(
        client
            .renderer()
            .invoke(Probe::ECHO, (7,))
            .timeout(Duration::from_millis(100)),
    )
    .wait();
    assert_eq!(
        outcome,
        Err(timeout(Probe::ECHO.name(), Duration::from_millis(100)))
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Driven again, the runtime serves as before.
    assert_eq!(runtime.block_on(client.echo(8).into_future()), Ok(8));
}

/// Blocking calls whose handlers finish right around their deadline, over a Unix socket, 2000
/// times: each ends with its value or `Timeout` (never a hang, a panic or another call's answer),
/// and the connection serves on. The reply, main's own deadline and the caller's race every time.
#[test]
fn blocking_calls_at_their_deadline_end_one_way_or_the_other() {
    use ipc_runtime::{Call, InvokeChannel, Never, Renderer};
    const NAP: InvokeChannel<(u32, u32), u32, Never> = InvokeChannel::new("race:nap");
    const DEADLINE: Duration = Duration::from_millis(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let path = common::socket_path("deadline-race");
    let (main, listener, renderer) = runtime.block_on(async {
        let main = Main::new();
        main.handle(NAP, |_, (tag, micros)| async move {
            tokio::time::sleep(Duration::from_micros(u64::from(micros))).await;
            Ok(tag)
        })
        .unwrap();
        let listener = main.listen_unix(&path).unwrap();
        let renderer = Renderer::connect_unix(listener.path(), RendererOptions::new("racer"))
            .await
            .unwrap();
        (main, listener, renderer)
    });
    let (mut answered, mut timed_out) = (0, 0);
    for tag in 0..2000u32 {
        // 0 to 4 ms around the 2 ms deadline.
        let micros = (tag * 7919) % 4000;
        match Call::from(renderer.invoke(NAP, (tag, micros)))
            .timeout(DEADLINE)
            .wait()
        {
            Ok(got) => {
                assert_eq!(got, tag, "the answer to this call, not another's");
                answered += 1;
            }
            Err(error) => {
                assert_eq!(error, timeout(NAP.name(), DEADLINE), "call {tag}");
                timed_out += 1;
            }
        }
    }
    assert!(
        answered > 0 && timed_out > 0,
        "{answered} answered, {timed_out} timed out"
    );
    let last = Call::from(renderer.invoke(NAP, (7, 0)))
        .timeout(Duration::from_secs(5))
        .wait();
    assert_eq!(last, Ok(7), "still serving");
    drop((renderer, listener, main));
}
