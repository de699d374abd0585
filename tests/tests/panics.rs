//! Panic isolation: a handler that panics fails only its own call with
//! `IpcError::HandlerPanicked` (carrying the panic message); calls running at the same time, on
//! the same renderer and on others, complete normally; main keeps serving afterwards; a panicking
//! send listener does not stop the sends after it.
//!
//! The panics below are expected; their messages on stderr are the default panic hook's.

mod common;

use common::{Probe, ProbeBackend, within};
use ipc_runtime::{IpcError, Main, NoArgs, RendererOptions, SendChannel};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_fails_only_its_call_with_the_message() {
    let main = Main::new();
    let (backend, _control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    let client = Probe::client(&main.connect_in_process(RendererOptions::new("w")));

    assert_eq!(
        client.crash("kaboom 42".into()).await,
        Err(IpcError::HandlerPanicked {
            channel: "probe:crash".into(),
            message: "kaboom 42".into(),
        })
    );
    assert_eq!(client.echo(5).await, Ok(5), "the same renderer is served");
    assert_eq!(
        client.crash("again".into()).await.unwrap_err().code(),
        "handler_panicked"
    );
    assert_eq!(client.echo(6).await, Ok(6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_running_during_a_panic_complete_normally_on_every_renderer() {
    let main = Main::new();
    let (backend, mut control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    let same = Probe::client(&main.connect_in_process(RendererOptions::new("same")));
    let other = Probe::client(&main.connect_in_process(RendererOptions::new("other")));

    // Two calls on the renderer that will see the panic, one on another renderer; all running.
    let running = [(1, same.clone()), (2, same.clone()), (3, other.clone())]
        .map(|(tag, c)| tokio::spawn(async move { c.block(tag).await }));
    let mut started = control.wait_started(3).await;
    started.sort_unstable();
    assert_eq!(started, [1, 2, 3]);

    let crashed = same.crash("in the middle".into()).await;
    assert!(
        matches!(&crashed, Err(IpcError::HandlerPanicked { message, .. }) if message == "in the middle"),
        "{crashed:?}"
    );

    control.release.add_permits(3);
    for (task, tag) in running.into_iter().zip(1..) {
        assert_eq!(within("a running call", task).await.unwrap(), Ok(tag));
    }
    assert!(control.dropped.try_recv().is_err(), "no call was cancelled");
    assert_eq!(same.echo(1).await, Ok(1));
    assert_eq!(other.echo(2).await, Ok(2));
    assert_eq!(main.renderer_count(), 2, "nobody was disconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_panics_at_once_leave_main_serving() {
    let main = Main::new();
    let (backend, _control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    let client = Probe::client(&main.connect_in_process(RendererOptions::new("w")));

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20u32 {
        let client = client.clone();
        tasks.spawn(async move {
            if i % 2 == 0 {
                client.crash(format!("panic {i}")).await
            } else {
                client.echo(i).await
            }
        });
    }
    let (mut panicked, mut served) = (0, 0);
    while let Some(done) = within("all calls", tasks.join_next()).await {
        match done.unwrap() {
            Ok(_) => served += 1,
            Err(IpcError::HandlerPanicked { .. }) => panicked += 1,
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!((panicked, served), (10, 10));
    assert_eq!(client.echo(99).await, Ok(99));
}

#[tokio::test]
async fn a_non_string_panic_payload_still_fails_only_its_call() {
    const ODD: ipc_runtime::InvokeChannel<NoArgs, u32, ipc_runtime::Never> =
        ipc_runtime::InvokeChannel::new("odd:panic");
    let main = Main::new();
    main.handle(ODD, |_, _| async {
        if true {
            std::panic::panic_any(42_u8);
        }
        Ok(0)
    })
    .unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("w"));
    let error = renderer.invoke(ODD, NoArgs).await.unwrap_err();
    assert!(
        matches!(error.ipc(), Some(IpcError::HandlerPanicked { channel, .. }) if channel == "odd:panic"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_panicking_send_listener_does_not_stop_later_sends() {
    let main = Main::new();
    let (backend, mut control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    let client = Probe::client(&main.connect_in_process(RendererOptions::new("w")));

    client.note("before".into()).unwrap();
    client.note("panic".into()).unwrap();
    client.note("after".into()).unwrap();
    client.note("panic".into()).unwrap();
    client.note("last".into()).unwrap();
    let mut lines = Vec::new();
    while lines.len() < 3 {
        let (_, line) = within("the notes", control.notes.recv()).await.unwrap();
        lines.push(line);
    }
    assert_eq!(lines, ["before", "after", "last"]);
    assert_eq!(client.echo(1).await, Ok(1), "invokes are still served");
}

#[tokio::test]
async fn a_panicking_listener_does_not_stop_the_other_listeners_of_the_send() {
    const PING: SendChannel<(u32,)> = SendChannel::new("ping:ping");
    let main = Main::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    main.on(PING, |_, (n,)| async move {
        if n % 2 == 0 {
            panic!("even {n}");
        }
    });
    main.on(PING, move |_, (n,)| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(n);
        }
    });
    let renderer = main.connect_in_process(RendererOptions::new("w"));
    for n in 0..4 {
        renderer.send(PING, (n,)).unwrap();
    }
    for n in 0..4 {
        assert_eq!(within("the second listener", rx.recv()).await, Some(n));
    }
}

/// The handler closure given to `Main::handle` panics before it returns its future (while
/// decoding or validating arguments synchronously, say). That is still a panic in a handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_closure_that_panics_synchronously_fails_only_its_call() {
    const CHECKED: ipc_runtime::InvokeChannel<(u32,), u32, ipc_runtime::Never> =
        ipc_runtime::InvokeChannel::new("checked:double");
    let main = Main::new();
    main.handle(CHECKED, |_, (n,)| {
        assert!(n < 100, "too large: {n}");
        async move { Ok(n * 2) }
    })
    .unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("w"));

    let error = within("the panicking call", renderer.invoke(CHECKED, (500,)))
        .await
        .unwrap_err();
    assert!(
        matches!(error.ipc(), Some(IpcError::HandlerPanicked { message, .. }) if message == "too large: 500"),
        "{error:?}"
    );
    assert_eq!(
        within("the next call", renderer.invoke(CHECKED, (2,))).await,
        Ok(4),
        "the renderer is still served"
    );
    assert!(!renderer.is_closed());
}

/// The listener closure given to `Main::on` panics before it returns its future.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_closure_that_panics_synchronously_does_not_stop_later_sends() {
    const NOTE: SendChannel<(u32,)> = SendChannel::new("checked:note");
    let main = Main::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    main.on(NOTE, move |_, (n,)| {
        assert!(n != 1, "listener refuses {n}");
        let tx = tx.clone();
        async move {
            let _ = tx.send(n);
        }
    });
    let renderer = main.connect_in_process(RendererOptions::new("w"));
    for n in 0..3 {
        renderer.send(NOTE, (n,)).unwrap();
    }
    assert_eq!(within("send 0", rx.recv()).await, Some(0));
    assert_eq!(within("send 2", rx.recv()).await, Some(2));
    // The connection survived: a later send is heard too.
    renderer.send(NOTE, (3,)).unwrap();
    assert_eq!(within("send 3", rx.recv()).await, Some(3));
    assert!(main.renderer(renderer.id()).is_some());
    assert!(!renderer.is_closed());
}

/// A value whose encoding panics: the handler returns normally, and the panic comes after it,
/// while main writes the reply.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Unwritable(pub u32);

impl serde::Serialize for Unwritable {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 == 13 {
            panic!("thirteen cannot be written");
        }
        serializer.serialize_u32(self.0)
    }
}

impl ipc_runtime::__private::ts_rs::TS for Unwritable {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ipc_runtime::__private::ts_rs::Config) -> String {
        "number".into()
    }
    fn inline(cfg: &ipc_runtime::__private::ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

#[ipc_runtime::channels(namespace = "unwritable")]
pub trait Writer {
    /// Waits a moment (so the call runs in a task of its own), then returns `n`.
    async fn later(&self, n: u32) -> Unwritable;
}

struct WriterBackend;

impl WriterHandler for WriterBackend {
    async fn later(&self, _: &ipc_runtime::Caller, n: u32) -> Unwritable {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        Unwritable(n)
    }
}

/// A panic outside the handler's own code, after it returned (here: while main encodes the
/// reply, in the task that writes for the whole connection), on a real socket: that call fails
/// with `encode` naming the panic, its slot is freed, and the connection and the other renderer
/// go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_whose_encoding_panics_fails_only_its_call() {
    // Main lets a renderer have 2 calls in flight: a slot a failed call kept would stop it.
    let main = Main::builder().max_in_flight(2).build();
    let _registration = Writer::handle(&main, WriterBackend).unwrap();
    let path = common::socket_path("unwritable");
    let _listener = main.listen_unix(&path).unwrap();
    let connect = |label: &'static str| {
        let path = path.clone();
        async move {
            ipc_runtime::Renderer::connect_unix(
                &path,
                RendererOptions::new(label).codec(ipc_runtime::Codec::Binary),
            )
            .await
            .unwrap()
        }
    };
    let renderer = connect("w").await;
    let other = Writer::client(&connect("other").await);
    let client = Writer::client(&renderer);
    // More panicking calls than main lets the renderer have in flight: each slot must come back.
    for round in 0..5 {
        let failed = within("the failed call", client.later(13)).await;
        assert!(
            matches!(&failed, Err(IpcError::Encode { reason }) if reason.contains("Serialize panicked: thirteen")),
            "round {round}: {failed:?}"
        );
        assert_eq!(
            within("a good call", client.later(round)).await,
            Ok(Unwritable(round))
        );
    }
    assert_eq!(
        within("the other renderer", other.later(7)).await,
        Ok(Unwritable(7))
    );
}
