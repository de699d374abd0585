//! Transport conformance: one suite (invoke results and errors, ordering of sends and events,
//! concurrency, cancellation, deadlines, disconnects of either side, the handshake) that runs
//! unchanged on every transport:
//!
//! - `in_process`: main in this process, the renderer connected through `InProcess::pair()`;
//! - `unix_json`, `unix_binary`: main in a child process (`ipc-test-peer main-unix`) listening on
//!   a Unix socket;
//! - `stdio_json`, `stdio_binary`: main in a child process (`ipc-test-peer main-stdio`) serving
//!   over its stdin and stdout;
//! - `websocket_json`, `websocket_binary`: main in a child process (`ipc-test-peer
//!   main-websocket`) on a loopback WebSocket endpoint.
//!
//! Each case is a function of the transport; `suite!` instantiates every case once per transport,
//! so each shows up as its own test (`stdio_binary::dropping_a_call_cancels_the_handler`). Cases
//! that need a transport-specific setup are listed per transport; every case runs everywhere.
//!
//! Most cases play the renderer and observe main through the contract's introspection invokes
//! (`stats`, `wait_cancelled`, `sends_received`, ...), so they do not care where main runs. The
//! cases about renderers going away play main instead ([`Host`]): the renderer is then a real
//! child process (`ipc-test-peer renderer-unix` / `renderer-websocket` / `renderer-stdio`, the
//! last started with `Main::spawn_renderer`) or, in process, a task.
//!
//! Nothing here measures time: deadlines only bound waits that would otherwise hang.

use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{FutureExt, StreamExt};
use ipc_runtime::{
    ByteStream, Bytes, Call, CallError, ChildRenderer, Codec, EventError, EventStream, InProcess,
    InvokeChannel, IpcError, Main, Never, NoArgs, Renderer, RendererId, RendererOptions,
    SendChannel, Target, UnixListenerHandle, WebSocketListener, WebSocketOptions,
};
use ipc_tests::{
    BlockStats, ConfError, Conformance, ConformanceBackend, ConformanceClient, ConformanceState,
    END_OF_TICKS, EmitTarget, HELD_COUNTERS, HeavyInfo, SCENARIOS, Sample, Scenario, TEST_ORIGIN,
    Times, bulk_sample, heavy_checksum, run_scenario,
};
use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

/// Bounds every wait, only to turn a hang into a failure (never to measure speed).
const PATIENCE: Duration = Duration::from_secs(10);

/// The deadline of the deadline cases: long enough for a call to reach its handler.
const DEADLINE: Duration = Duration::from_millis(400);

const PEER: &str = env!("CARGO_BIN_EXE_ipc-test-peer");

async fn within<F: IntoFuture>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, future.into_future()).await {
        Ok(output) => output,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

async fn next_event<T: 'static>(stream: &mut EventStream<T>) -> T {
    within(&format!("an event on {}", stream.channel()), stream.next())
        .await
        .unwrap_or_else(|| panic!("the {} stream ended early", stream.channel()))
        .unwrap_or_else(|error| panic!("{}: {error}", stream.channel()))
}

fn options(label: &str) -> RendererOptions {
    RendererOptions::new(label).contract(Conformance::schema())
}

fn peer_command() -> Command {
    let mut command = Command::new(PEER);
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

fn spawn_block(client: &ConformanceClient, tag: u32) -> JoinHandle<Result<u32, IpcError>> {
    tokio::spawn(client.block(tag).into_future())
}

fn stats(started: u32, running: u32, completed: u32, cancelled: u32) -> BlockStats {
    BlockStats {
        started,
        running,
        completed,
        cancelled,
    }
}

/// A transport, and for byte transports the codec.
#[derive(Clone, Copy, Debug)]
enum Kind {
    InProcess,
    Unix(Codec),
    Stdio(Codec),
    WebSocket(Codec),
}

/// A private directory for socket files, removed on drop.
struct SocketDir(PathBuf);

impl SocketDir {
    fn new() -> SocketDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ipc-conf-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        SocketDir(dir)
    }

    fn socket(&self) -> PathBuf {
        self.0.join("main.sock")
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where main runs, seen from the renderer side.
enum MainSide {
    /// In this process.
    Local(Main),
    /// A child process listening on a Unix socket.
    Unix {
        child: Child,
        socket: PathBuf,
        _dir: SocketDir,
    },
    /// A child process with a WebSocket endpoint at `url`.
    WebSocket { child: Child, url: String },
    /// A child process serving one renderer over its stdin and stdout.
    Stdio {
        child: Child,
        pipes: Option<(ChildStdout, ChildStdin)>,
    },
}

/// The renderer side of one transport: a main serving `Conformance`, and connections to it.
struct Harness {
    kind: Kind,
    main: MainSide,
}

impl Harness {
    async fn start(kind: Kind) -> Harness {
        let main = match kind {
            Kind::InProcess => {
                let main = Main::new();
                let _ = ConformanceBackend::serve(&main).unwrap();
                MainSide::Local(main)
            }
            Kind::Unix(_) => {
                let dir = SocketDir::new();
                let socket = dir.socket();
                let mut command = peer_command();
                command
                    .arg("main-unix")
                    .arg(&socket)
                    .stdout(std::process::Stdio::piped());
                let mut child = command.spawn().expect("start ipc-test-peer main-unix");
                let stdout = child.stdout.take().unwrap();
                let mut lines = tokio::io::BufReader::new(stdout).lines();
                let line = within("main-unix to listen", lines.next_line()).await;
                assert_eq!(line.unwrap().as_deref(), Some("listening"));
                MainSide::Unix {
                    child,
                    socket,
                    _dir: dir,
                }
            }
            Kind::WebSocket(_) => {
                let mut command = peer_command();
                command
                    .arg("main-websocket")
                    .stdout(std::process::Stdio::piped());
                let mut child = command.spawn().expect("start ipc-test-peer main-websocket");
                let stdout = child.stdout.take().unwrap();
                let mut lines = tokio::io::BufReader::new(stdout).lines();
                let url = within("main-websocket to listen", lines.next_line()).await;
                let url = url.unwrap().expect("main-websocket prints its URL");
                MainSide::WebSocket { child, url }
            }
            Kind::Stdio(_) => {
                let mut command = peer_command();
                command
                    .arg("main-stdio")
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped());
                let mut child = command.spawn().expect("start ipc-test-peer main-stdio");
                let pipes = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
                MainSide::Stdio {
                    child,
                    pipes: Some(pipes),
                }
            }
        };
        Harness { kind, main }
    }

    /// Connects a renderer (the codec is the transport's; the options carry the rest).
    async fn connect(&mut self, options: RendererOptions) -> Result<Renderer, IpcError> {
        match (&mut self.main, self.kind) {
            (MainSide::Local(main), _) => {
                let (main_end, renderer_end) = InProcess::pair();
                let accept = tokio::spawn({
                    let main = main.clone();
                    async move { main.accept(main_end).await }
                });
                let renderer =
                    within("the handshake", Renderer::connect(renderer_end, options)).await;
                let accepted = within("main to accept", accept).await.unwrap();
                match (&renderer, &accepted) {
                    (Ok(renderer), Ok(id)) => assert_eq!(renderer.id(), *id),
                    (Err(refused), Err(refusal)) => assert_eq!(refused, refusal),
                    _ => panic!("the two ends disagree: {renderer:?} / {accepted:?}"),
                }
                renderer
            }
            (MainSide::Unix { socket, .. }, Kind::Unix(codec)) => {
                let options = options.codec(codec);
                within("the handshake", Renderer::connect_unix(&*socket, options)).await
            }
            (MainSide::WebSocket { url, .. }, Kind::WebSocket(codec)) => {
                let options = options.codec(codec);
                let connect = Renderer::connect_websocket(url, Some(TEST_ORIGIN), options);
                within("the handshake", connect).await
            }
            (MainSide::Stdio { pipes, .. }, Kind::Stdio(codec)) => {
                let (from_main, to_main) = pipes.take().expect("main-stdio serves one renderer");
                let stream = ByteStream::new(from_main, to_main).peer("ipc-test-peer main-stdio");
                within(
                    "the handshake",
                    Renderer::connect(stream, options.codec(codec)),
                )
                .await
            }
            _ => unreachable!("the main side matches the transport"),
        }
    }

    async fn client(&mut self, label: &str) -> (Renderer, ConformanceClient) {
        let renderer = self.connect(options(label)).await.expect("connect");
        let client = Conformance::client(&renderer);
        (renderer, client)
    }

    /// Whether main can take more than one renderer (a stdio main serves exactly one).
    fn serves_several_renderers(&self) -> bool {
        !matches!(self.main, MainSide::Stdio { .. })
    }

    /// Main goes away: killed when it is a process (no goodbye), shut down when it is local.
    async fn kill_main(&mut self) {
        match &mut self.main {
            MainSide::Local(main) => main.shutdown(),
            MainSide::Unix { child, .. }
            | MainSide::WebSocket { child, .. }
            | MainSide::Stdio { child, .. } => {
                child.kill().await.expect("kill main");
            }
        }
    }
}

/// The main side of one transport, in this process, for the cases where renderers go away.
struct Host {
    kind: Kind,
    main: Main,
    state: Arc<ConformanceState>,
    listener: Listener,
}

/// What a [`Host`] listens on.
enum Listener {
    None,
    Unix {
        listener: UnixListenerHandle,
        _dir: SocketDir,
    },
    WebSocket(WebSocketListener),
}

/// A renderer the [`Host`] watches: a task in process, otherwise a child process.
struct Peer {
    id: RendererId,
    process: PeerProcess,
}

enum PeerProcess {
    Task(JoinHandle<Result<(), String>>),
    Child(Child),
    Stdio(ChildRenderer),
}

impl Host {
    async fn start(kind: Kind) -> Host {
        let main = Main::new();
        let (state, _registration) = ConformanceBackend::serve(&main).unwrap();
        let listener = match kind {
            Kind::Unix(_) => {
                let dir = SocketDir::new();
                let listener = main.listen_unix(dir.socket()).unwrap();
                Listener::Unix {
                    listener,
                    _dir: dir,
                }
            }
            Kind::WebSocket(_) => {
                let options = WebSocketOptions::new().allow_origin(TEST_ORIGIN);
                Listener::WebSocket(main.listen_websocket(options).await.unwrap())
            }
            Kind::InProcess | Kind::Stdio(_) => Listener::None,
        };
        Host {
            kind,
            main,
            state,
            listener,
        }
    }

    async fn spawn_peer(&self, label: &str, scenario: Scenario) -> Peer {
        match self.kind {
            Kind::InProcess => {
                let (main_end, renderer_end) = InProcess::pair();
                let options = options(label);
                let task = tokio::spawn(async move {
                    let renderer = Renderer::connect(renderer_end, options)
                        .await
                        .map_err(|e| e.to_string())?;
                    run_scenario(renderer, scenario, || {}).await
                });
                let id = within("main to accept", self.main.accept(main_end))
                    .await
                    .unwrap();
                Peer {
                    id,
                    process: PeerProcess::Task(task),
                }
            }
            Kind::Unix(codec) | Kind::WebSocket(codec) => {
                let mut command = peer_command();
                match &self.listener {
                    Listener::Unix { listener, .. } => {
                        command.arg("renderer-unix").arg(listener.path())
                    }
                    Listener::WebSocket(listener) => {
                        command.arg("renderer-websocket").arg(listener.url())
                    }
                    Listener::None => unreachable!("the host listens"),
                };
                command.args([label, scenario.name(), codec.name()]);
                let child = command.spawn().expect("start ipc-test-peer");
                // Every scenario starts with a call or a send; the peer may be gone right after.
                within(
                    "the peer to connect and call",
                    self.state.wait_for(|s| s.caller_id(label).is_some()),
                )
                .await;
                Peer {
                    id: self.state.caller_id(label).unwrap(),
                    process: PeerProcess::Child(child),
                }
            }
            Kind::Stdio(codec) => {
                let mut command = Command::new(PEER);
                command.args(["renderer-stdio", label, scenario.name(), codec.name()]);
                let child = within("the peer to connect", self.main.spawn_renderer(command))
                    .await
                    .expect("spawn ipc-test-peer renderer-stdio");
                Peer {
                    id: child.id(),
                    process: PeerProcess::Stdio(child),
                }
            }
        }
    }
}

impl Peer {
    /// Kills the peer (in process: aborts its task, dropping its connection).
    async fn kill(&mut self) {
        match &mut self.process {
            PeerProcess::Task(task) => {
                task.abort();
                let _ = within("the peer task to end", task).await;
            }
            PeerProcess::Child(child) => child.kill().await.expect("kill the peer"),
            PeerProcess::Stdio(child) => child.kill().await.expect("kill the peer"),
        }
    }

    /// Waits until the peer ends on its own; fails the test if it reports a failure.
    async fn finished(&mut self) {
        match &mut self.process {
            PeerProcess::Task(task) => {
                let outcome = within("the peer task to end", task).await.unwrap();
                outcome.expect("the peer task failed");
            }
            PeerProcess::Child(child) => {
                let status = within("the peer to exit", child.wait()).await.unwrap();
                assert!(status.success(), "the peer failed: {status}");
            }
            PeerProcess::Stdio(child) => {
                let status = within("the peer to exit", child.wait()).await.unwrap();
                assert!(status.success(), "the peer failed: {status}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------------------------

/// Values round-trip; a fallible method's own error arrives as `CallError::App`, framework
/// failures of the same method as `CallError::Ipc`; main sees the caller the renderer is.
async fn invoke_round_trip_app_error_vs_framework_error(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (renderer, client) = harness.client("round-trip").await;

    for sample in [
        Sample {
            text: "quotes \" and \\ backslashes,\nnewlines, and ünïcødé ✓".into(),
            number: -42,
            items: vec![0, 1, u32::MAX],
            note: Some(String::new()),
        },
        Sample {
            text: String::new(),
            number: i32::MIN,
            items: Vec::new(),
            note: None,
        },
    ] {
        assert_eq!(
            within("echo", client.echo(sample.clone())).await,
            Ok(sample)
        );
    }

    assert_eq!(within("divide", client.divide(7, 2)).await, Ok(3));
    assert_eq!(
        within("divide", client.divide(5, 0)).await,
        Err(CallError::App(ConfError::DivisionByZero { dividend: 5 }))
    );
    match within("divide", client.divide(i32::MIN, -1)).await {
        Err(CallError::Ipc(IpcError::HandlerPanicked { channel, message })) => {
            assert_eq!(channel, Conformance::DIVIDE.name());
            assert!(message.contains("overflow"), "{message}");
        }
        other => panic!("expected a framework error (HandlerPanicked), got {other:?}"),
    }
    const UNHANDLED: InvokeChannel<(i32, i32), i32, ConfError> =
        InvokeChannel::new("conformance:divide-elsewhere");
    assert_eq!(
        within(
            "an unhandled fallible call",
            renderer.invoke(UNHANDLED, (1, 1))
        )
        .await,
        Err(CallError::Ipc(IpcError::NoHandler {
            channel: UNHANDLED.name().into()
        }))
    );

    let me = within("whoami", client.whoami()).await.unwrap();
    assert_eq!(u64::from(me.id), renderer.id().get(), "main's id for us");
    assert_eq!(me.label, "round-trip");
    assert_eq!(within("next", client.next()).await, Ok(1));
    assert_eq!(within("next", client.next()).await, Ok(2));
}

/// 200 sends reach main's listener in the order they were sent (and, with two renderers, each
/// renderer's sends stay its own and in order).
async fn sends_arrive_in_order(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("sender").await;
    let other = if harness.serves_several_renderers() {
        Some(harness.client("other-sender").await.1)
    } else {
        None
    };

    let mut expected = Vec::new();
    let mut expected_other = Vec::new();
    for i in 0..200 {
        let line = format!("line {i}");
        client.note(line.clone()).unwrap();
        expected.push(line);
        if let Some(other) = &other {
            if i % 4 == 0 {
                let line = format!("other {i}");
                other.note(line.clone()).unwrap();
                expected_other.push(line);
            }
        }
    }
    let received = within("200 sends", client.sends_received(200))
        .await
        .unwrap();
    assert_eq!(received, expected);
    if let Some(other) = &other {
        let received = within("50 sends", other.sends_received(50)).await.unwrap();
        assert_eq!(received, expected_other);
    }
}

/// Events with zero, one and two arguments arrive in the order main emitted them, only at the
/// renderers they were emitted to.
async fn events_arrive_in_order_and_to_the_right_renderer(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("listener").await;
    let mut ticks = client.on_tick();
    let mut pairs = client.on_pair();
    let mut pulses = client.on_pulse();

    let reached = within("emit", client.emit(EmitTarget::Caller, 0, 100)).await;
    assert_eq!(reached, Ok(1));
    for value in 0..100 {
        assert_eq!(next_event(&mut ticks).await, value);
        assert_eq!(
            next_event(&mut pairs).await,
            (value, "listener".to_string())
        );
        next_event(&mut pulses).await;
    }

    // Events for someone else never arrive: the next event is the one emitted after them.
    let me = within("whoami", client.whoami()).await.unwrap();
    for target in [
        EmitTarget::Renderer { id: me.id + 1000 },
        EmitTarget::Label {
            label: "nobody".into(),
        },
    ] {
        assert_eq!(within("emit", client.emit(target, 1000, 3)).await, Ok(0));
    }
    let to_me = [
        EmitTarget::Renderer { id: me.id },
        EmitTarget::Label {
            label: "listener".into(),
        },
        EmitTarget::All,
    ];
    for (value, target) in (2000..).zip(to_me) {
        assert_eq!(within("emit", client.emit(target, value, 1)).await, Ok(1));
        assert_eq!(next_event(&mut ticks).await, value);
        assert_eq!(next_event(&mut pairs).await.0, value);
    }

    if harness.serves_several_renderers() {
        let (_second, second_client) = harness.client("second").await;
        let mut second_ticks = second_client.on_tick();
        assert_eq!(
            within("emit", client.emit(EmitTarget::Caller, 3000, 1)).await,
            Ok(1)
        );
        assert_eq!(next_event(&mut ticks).await, 3000);
        assert_eq!(
            within("emit", second_client.emit(EmitTarget::All, 4000, 1)).await,
            Ok(2)
        );
        assert_eq!(next_event(&mut ticks).await, 4000);
        assert_eq!(next_event(&mut second_ticks).await, 4000, "not 3000");
    }
}

/// Events a handler emits before it returns are delivered before its reply: once the call
/// resolves, they are waiting in the subscription.
async fn events_emitted_by_a_handler_arrive_before_its_reply(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("eager").await;
    let mut ticks = client.on_tick();
    for round in 0..20 {
        let first = round * 10;
        assert_eq!(
            within("emit", client.emit(EmitTarget::Caller, first, 10)).await,
            Ok(1)
        );
        for value in first..first + 10 {
            match ticks.next().now_or_never() {
                Some(Some(Ok(tick))) => assert_eq!(tick, value),
                other => {
                    panic!("round {round}: tick {value} not delivered before the reply: {other:?}")
                }
            }
        }
    }
}

/// 64 calls in flight at once all run concurrently on main and all complete; 64 concurrent
/// counter calls each run exactly once.
async fn concurrent_calls_all_complete(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("busy").await;

    let calls: Vec<_> = (0..64).map(|tag| spawn_block(&client, tag)).collect();
    let running = within("64 running handlers", client.wait_running(64)).await;
    assert_eq!(running, Ok(stats(64, 64, 0, 0)));
    within("release", client.release(64)).await.unwrap();
    for (tag, call) in (0..).zip(calls) {
        assert_eq!(within("a released call", call).await.unwrap(), Ok(tag));
    }
    assert_eq!(
        within("stats", client.stats()).await,
        Ok(stats(64, 0, 64, 0))
    );

    let counters: Vec<_> = (0..64)
        .map(|_| tokio::spawn(client.next().into_future()))
        .collect();
    let mut seen = Vec::new();
    for call in counters {
        seen.push(within("a counter call", call).await.unwrap().unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=64).collect::<Vec<u32>>());
}

/// Dropping a call future cancels its handler on main; main keeps serving.
async fn dropping_a_call_cancels_the_handler(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("canceller").await;

    let call = spawn_block(&client, 1);
    within("the handler to run", client.wait_running(1))
        .await
        .unwrap();
    call.abort();
    assert!(
        within("the aborted task", call)
            .await
            .unwrap_err()
            .is_cancelled()
    );
    assert_eq!(
        within("the handler to be cancelled", client.wait_cancelled(1)).await,
        Ok(stats(1, 0, 0, 1))
    );

    // Dropped while racing another future (what `select!` and `timeout` do).
    let mut racing = client.block(2).into_future();
    tokio::select! {
        result = &mut racing => panic!("the call finished: {result:?}"),
        running = client.wait_running(1) => assert!(running.is_ok()),
    }
    drop(racing);
    assert_eq!(
        within("the handler to be cancelled", client.wait_cancelled(2)).await,
        Ok(stats(2, 0, 0, 2))
    );

    let call = spawn_block(&client, 3);
    within("the handler to run", client.wait_running(1))
        .await
        .unwrap();
    within("release", client.release(1)).await.unwrap();
    assert_eq!(within("the released call", call).await.unwrap(), Ok(3));
}

/// A per-call deadline fails the call with `Timeout` and cancels the handler on main.
async fn call_deadline_times_out_and_cancels(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("impatient").await;

    // Main enters every invoke it reads (and a cancel comes after its call), so the handler
    // starts however late main gets to it: no need to watch it run before the deadline.
    let call = tokio::spawn(client.block(5).timeout(DEADLINE).into_future());
    assert_eq!(
        within("the deadline", call).await.unwrap(),
        Err(IpcError::Timeout {
            channel: Conformance::BLOCK.name().into(),
            after: DEADLINE,
        })
    );
    assert_eq!(
        within("the handler to be cancelled", client.wait_cancelled(1)).await,
        Ok(stats(1, 0, 0, 1))
    );
    assert_eq!(within("next", client.next()).await, Ok(1), "still serving");
}

/// A `#[sync]` method blocks a thread that runs no async code until main answers: with its
/// value, with its application error, and past its declared deadline with `timeout` (main drops
/// the handler); from `spawn_blocking` and from a plain thread alike.
async fn sync_calls_block_until_the_answer_or_the_deadline(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("blocking").await;

    let blocking = client.clone();
    let outcomes = within(
        "the blocking calls",
        tokio::task::spawn_blocking(move || {
            (
                blocking.divide_now(7, 2),
                blocking.divide_now(5, 0),
                blocking.block_now(9),
            )
        }),
    )
    .await
    .unwrap();
    assert_eq!(outcomes.0, Ok(3));
    assert_eq!(
        outcomes.1,
        Err(CallError::App(ConfError::DivisionByZero { dividend: 5 }))
    );
    assert_eq!(
        outcomes.2,
        Err(IpcError::Timeout {
            channel: Conformance::BLOCK_NOW.name().into(),
            after: Duration::from_millis(200),
        })
    );
    assert_eq!(
        within("the handler to be cancelled", client.wait_cancelled(1)).await,
        Ok(stats(1, 0, 0, 1))
    );
    let plain = client.clone();
    let thread = std::thread::spawn(move || plain.divide_now(9, 3));
    let joined = within(
        "the plain thread",
        tokio::task::spawn_blocking(move || thread.join().unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(joined, Ok(3));
    // Awaited, the same channel is an ordinary invoke.
    assert_eq!(
        within(
            "divide_now awaited",
            client.renderer().invoke(Conformance::DIVIDE_NOW, (8, 4))
        )
        .await,
        Ok(2)
    );
}

/// A blocking call on a thread that drives the runtime panics (Tokio's own rule, as
/// `blocking_recv`), before anything is sent: the connection goes on serving.
async fn a_blocking_call_in_async_code_panics_and_sends_nothing(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("misused").await;
    let misused = client.clone();
    let outcome = within(
        "the misuse",
        tokio::spawn(async move { misused.divide_now(1, 1) }),
    )
    .await;
    let panic = outcome
        .expect_err("blocking in a task must panic")
        .into_panic();
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(
        message.contains("Cannot block the current thread"),
        "{message}"
    );
    assert_eq!(within("next", client.next()).await, Ok(1), "still serving");
    assert_eq!(
        within("stats", client.stats()).await,
        Ok(stats(0, 0, 0, 0)),
        "nothing reached main"
    );
}

/// `RendererOptions::default_timeout` is the deadline of calls that set none; a call that opts
/// out with `no_timeout` outlives it.
async fn default_timeout_applies(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let renderer = harness
        .connect(options("default-deadline").default_timeout(DEADLINE))
        .await
        .unwrap();
    assert_eq!(renderer.default_timeout(), Some(DEADLINE));
    let client = Conformance::client(&renderer);

    let patient = tokio::spawn(client.block(7).no_timeout().into_future());
    // The helpers wait as long as it takes: under the renderer's short default deadline a busy
    // machine could time them out.
    within("the handler to run", client.wait_running(1).no_timeout())
        .await
        .unwrap();
    // This call starts after the patient one and fails at the default deadline, so by then the
    // patient one has been in flight longer than the default deadline.
    assert_eq!(
        within("the default deadline", client.block(8)).await,
        Err(IpcError::Timeout {
            channel: Conformance::BLOCK.name().into(),
            after: DEADLINE,
        })
    );
    assert_eq!(
        within(
            "the handler to be cancelled",
            client.wait_cancelled(1).no_timeout()
        )
        .await,
        Ok(stats(2, 1, 0, 1))
    );
    assert!(
        !patient.is_finished(),
        "the call without a deadline is still waiting"
    );
    within("release", client.release(1).no_timeout())
        .await
        .unwrap();
    assert_eq!(within("the patient call", patient).await.unwrap(), Ok(7));
}

/// A channel main does not handle fails with `NoHandler`; a send to one is dropped without
/// harm.
async fn undeclared_channel_is_no_handler(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (renderer, client) = harness.client("lost").await;

    const UNDECLARED: InvokeChannel<NoArgs, u32, Never> =
        InvokeChannel::new("conformance:undeclared");
    assert_eq!(
        within(
            "an undeclared call",
            Call::from(renderer.invoke(UNDECLARED, NoArgs))
        )
        .await,
        Err(IpcError::NoHandler {
            channel: "conformance:undeclared".into()
        })
    );
    const NOWHERE: SendChannel<(String,)> = SendChannel::new("conformance:nowhere");
    renderer.send(NOWHERE, ("into the void".into(),)).unwrap();
    client.note("after".into()).unwrap();
    assert_eq!(
        within("sends", client.sends_received(1)).await,
        Ok(vec!["after".to_string()])
    );
}

/// Arguments of the wrong types or count fail with `BadArguments`, a reply of the wrong type
/// with `BadReply`, a send with bad arguments is dropped; main keeps serving.
async fn bad_arguments_and_bad_reply(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (renderer, client) = harness.client("confused").await;
    let divide = Conformance::DIVIDE.name();

    const WRONG_TYPES: InvokeChannel<(String, String), i32, ConfError> =
        InvokeChannel::new(Conformance::DIVIDE.name());
    match within(
        "wrong types",
        renderer.invoke(WRONG_TYPES, ("a".into(), "b".into())),
    )
    .await
    {
        Err(CallError::Ipc(IpcError::BadArguments { channel, reason })) => {
            assert_eq!(channel, divide);
            assert!(!reason.is_empty());
        }
        other => panic!("expected BadArguments, got {other:?}"),
    }
    const WRONG_COUNT: InvokeChannel<(i32,), i32, ConfError> =
        InvokeChannel::new(Conformance::DIVIDE.name());
    match within("wrong count", renderer.invoke(WRONG_COUNT, (1,))).await {
        Err(CallError::Ipc(IpcError::BadArguments { channel, .. })) => assert_eq!(channel, divide),
        other => panic!("expected BadArguments, got {other:?}"),
    }
    const WRONG_REPLY: InvokeChannel<(i32, i32), String, ConfError> =
        InvokeChannel::new(Conformance::DIVIDE.name());
    match within("wrong reply", renderer.invoke(WRONG_REPLY, (6, 3))).await {
        Err(CallError::Ipc(IpcError::BadReply { channel, .. })) => assert_eq!(channel, divide),
        other => panic!("expected BadReply, got {other:?}"),
    }

    const WRONG_SEND: SendChannel<(u32, bool)> = SendChannel::new(Conformance::NOTE.name());
    match (kind, renderer.send(WRONG_SEND, (7, true))) {
        // In process the listener is entered in the caller's task: the mismatch is reported at
        // once. Across processes main reports it in an error frame (logged by the renderer).
        (Kind::InProcess, Err(IpcError::BadArguments { channel, .. })) => {
            assert_eq!(channel, Conformance::NOTE.name())
        }
        (Kind::InProcess, other) => panic!("expected BadArguments, got {other:?}"),
        (_, sent) => sent.unwrap(),
    }
    client.note("after".into()).unwrap();
    assert_eq!(
        within("sends", client.sends_received(1)).await,
        Ok(vec!["after".to_string()])
    );
    assert_eq!(within("divide", client.divide(6, 3)).await, Ok(2));
}

/// A panicking handler fails its call with `HandlerPanicked`; the other calls of the same
/// renderer, running or new, are not affected.
async fn handler_panic_is_reported_and_main_keeps_serving(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("crasher").await;

    let running = spawn_block(&client, 9);
    within("the handler to run", client.wait_running(1))
        .await
        .unwrap();
    assert_eq!(
        within("crash", client.crash("boom".into())).await,
        Err(IpcError::HandlerPanicked {
            channel: Conformance::CRASH.name().into(),
            message: "boom".into(),
        })
    );
    assert_eq!(within("next", client.next()).await, Ok(1));
    within("release", client.release(1)).await.unwrap();
    assert_eq!(within("the running call", running).await.unwrap(), Ok(9));
    assert_eq!(within("stats", client.stats()).await, Ok(stats(1, 0, 1, 0)));
}

/// Asserts that a renderer whose main went away failed its pending calls with `Disconnected`,
/// ended its event streams, reports why it closed, and fails new calls and sends at once.
async fn assert_main_is_gone(
    renderer: &Renderer,
    client: &ConformanceClient,
    pending: Vec<JoinHandle<Result<u32, IpcError>>>,
    mut ticks: EventStream<u32>,
) -> String {
    let mut reasons = Vec::new();
    for call in pending {
        match within("a pending call to fail", call).await.unwrap() {
            Err(IpcError::Disconnected { reason }) => reasons.push(reason),
            other => panic!("expected Disconnected, got {other:?}"),
        }
    }
    let reason = within("closed()", renderer.closed()).await;
    assert!(!reason.is_empty());
    assert!(renderer.is_closed());
    for pending_reason in reasons {
        assert_eq!(pending_reason, reason, "a pending call says why");
    }
    assert_eq!(within("the event stream to end", ticks.next()).await, None);
    assert_eq!(
        within("a late subscription to end", client.on_tick().next()).await,
        None
    );
    match within("a call after the end", client.next()).await {
        Err(IpcError::Disconnected { reason: why }) => assert_eq!(why, reason),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    match client.note("too late".into()) {
        Err(IpcError::Disconnected { reason: why }) => assert_eq!(why, reason),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    reason
}

/// Main dies (its process is killed; in process: it shuts down): pending calls fail promptly
/// with `Disconnected` and `closed()` resolves.
async fn main_killed_fails_pending_calls(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (renderer, client) = harness.client("orphan").await;
    let ticks = client.on_tick();
    let pending: Vec<_> = (0..3).map(|tag| spawn_block(&client, tag)).collect();
    within("the handlers to run", client.wait_running(3))
        .await
        .unwrap();

    harness.kill_main().await;
    assert_main_is_gone(&renderer, &client, pending, ticks).await;
}

/// Main shuts down (`Main::shutdown`, asked for over the connection): pending calls fail
/// promptly with `Disconnected` and `closed()` resolves.
async fn main_shutdown_fails_pending_calls(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (renderer, client) = harness.client("dismissed").await;
    let ticks = client.on_tick();
    let pending: Vec<_> = (0..3).map(|tag| spawn_block(&client, tag)).collect();
    within("the handlers to run", client.wait_running(3))
        .await
        .unwrap();

    // Its own reply may or may not make it out before the connection closes.
    match within("shutdown", client.shutdown_main()).await {
        Ok(()) | Err(IpcError::Disconnected { .. }) => {}
        Err(other) => panic!("expected Ok or Disconnected, got {other:?}"),
    }
    let reason = assert_main_is_gone(&renderer, &client, pending, ticks).await;
    assert!(reason.contains("closed by main"), "{reason}");
}

/// Main refuses a renderer built from another version of the contract with `VersionMismatch`,
/// naming both hashes; other renderers still connect.
async fn version_mismatch_is_refused(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let mut stale = Conformance::schema().clone();
    stale.hash = "00000000deadbeef".into();
    assert_ne!(stale.hash, Conformance::schema().hash);

    match harness.connect(options("stale").contract(&stale)).await {
        Err(error @ IpcError::VersionMismatch { .. }) => {
            let text = error.to_string();
            assert!(text.contains(&Conformance::schema().hash), "{text}");
            assert!(text.contains(&stale.hash), "{text}");
        }
        other => panic!("expected VersionMismatch, got {other:?}"),
    }

    if harness.serves_several_renderers() {
        let (_renderer, client) = harness.client("current").await;
        assert_eq!(within("next", client.next()).await, Ok(1));
    }
}

/// A renderer killed in the middle of a call: main cancels the call's handler and forgets the
/// renderer.
async fn killed_renderer_is_cancelled_and_forgotten(kind: Kind) {
    let host = Host::start(kind).await;
    let mut peer = host.spawn_peer("doomed", Scenario::Hang).await;
    within(
        "the peer's call to run",
        host.state.wait_for(|s| s.stats().running == 1),
    )
    .await;
    assert!(host.main.renderer(peer.id).is_some());

    peer.kill().await;
    within(
        "the handler to be cancelled",
        host.state.wait_for(|s| s.stats().cancelled == 1),
    )
    .await;
    assert_eq!(host.state.stats(), stats(1, 0, 0, 1));
    eventually("main to forget the renderer", || {
        host.main.renderer(peer.id).is_none()
    })
    .await;
    assert!(host.main.renderers().is_empty());
}

/// A renderer that exits in the middle of a call: main cancels the call's handler and forgets
/// the renderer.
async fn exiting_renderer_is_cancelled_and_forgotten(kind: Kind) {
    let host = Host::start(kind).await;
    let mut peer = host.spawn_peer("quitter", Scenario::ExitMidCall).await;
    peer.finished().await;

    within(
        "the handler to be cancelled",
        host.state.wait_for(|s| s.stats().cancelled == 1),
    )
    .await;
    assert_eq!(host.state.stats(), stats(1, 0, 0, 1));
    eventually("main to forget the renderer", || {
        host.main.renderer(peer.id).is_none()
    })
    .await;
    assert!(host.main.renderers().is_empty());
}

/// A renderer that drops its connection while its process lives on is forgotten by main.
async fn dropped_renderer_is_forgotten_while_its_process_lives(kind: Kind) {
    let host = Host::start(kind).await;
    let mut peer = host.spawn_peer("dropper", Scenario::DropAndLinger).await;
    eventually("main to forget the renderer", || {
        host.main.renderer(peer.id).is_none()
    })
    .await;
    assert!(host.main.renderers().is_empty());
    peer.kill().await;
}

/// Sends a renderer made before it closed its connection all reach main's listener, in order,
/// and their listeners (a millisecond each) run to their end after the renderer is gone.
async fn sends_before_a_disconnect_are_all_handled(kind: Kind) {
    let host = Host::start(kind).await;
    let mut peer = host.spawn_peer("leaver", Scenario::SendAndLeave).await;
    eventually("main to forget the renderer", || {
        host.main.renderer(peer.id).is_none()
    })
    .await;
    let expected: Vec<String> = (0..200).map(|i| format!("slow {i}")).collect();
    let all_handled = host
        .state
        .wait_for(|s| s.slow_finished("leaver") >= expected.len() as u32);
    let _ = tokio::time::timeout(PATIENCE, all_handled).await;
    assert_eq!(
        host.state.sends_from("leaver"),
        expected,
        "sends entered, in order"
    );
    assert_eq!(
        host.state.slow_finished("leaver"),
        200,
        "listeners that ran to their end"
    );
    peer.kill().await;
}

/// Two renderer peers: an event to one reaches only it, an event to all reaches both; when main
/// disconnects them their `closed()` resolves and they exit.
async fn events_reach_only_their_renderer_process(kind: Kind) {
    let host = Host::start(kind).await;
    let mut left = host.spawn_peer("left", Scenario::Events).await;
    let mut right = host.spawn_peer("right", Scenario::Events).await;
    for label in ["left", "right"] {
        within(
            "the peer to subscribe",
            host.state.wait_for(|s| !s.sends_from(label).is_empty()),
        )
        .await;
        assert_eq!(host.state.sends_from(label), ["ready"]);
    }

    let events = Conformance::events(&host.main);
    assert_eq!(events.tick(left.id, 1), 1);
    assert_eq!(events.tick(right.id, 2), 1);
    assert_eq!(events.tick(Target::All, 3), 2);
    assert_eq!(events.tick(Target::filter(|c| c.label() == "left"), 4), 1);
    assert_eq!(events.tick(Target::All, END_OF_TICKS), 2);

    for (label, expected) in [
        ("left", vec!["ready", "got 1", "got 3", "got 4", "done"]),
        ("right", vec!["ready", "got 2", "got 3", "done"]),
    ] {
        within(
            "the peer to report",
            host.state
                .wait_for(|s| s.sends_from(label).last().map(String::as_str) == Some("done")),
        )
        .await;
        assert_eq!(host.state.sends_from(label), expected, "{label}");
    }

    assert!(host.main.disconnect(left.id));
    assert!(host.main.disconnect(right.id));
    left.finished().await;
    right.finished().await;
    eventually("main to forget both", || host.main.renderers().is_empty()).await;
}

/// Blobs of every size round-trip intact, alone and several in one call: small ones, ones just
/// under and over the size the runtime stops copying at, and 1 MiB.
async fn blobs_of_every_size_round_trip(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("blobs").await;
    let blob = |len: usize, seed: u8| -> Bytes {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect::<Vec<u8>>()
            .into()
    };
    let reversed = |blobs: &[Bytes]| -> Vec<Bytes> {
        blobs
            .iter()
            .rev()
            .map(|b| b.iter().rev().copied().collect::<Vec<u8>>().into())
            .collect()
    };
    let sizes = [0, 1, 16 * 1024, 64 * 1024 - 1, 64 * 1024, 200_000, 1 << 20];
    for (seed, &len) in sizes.iter().enumerate() {
        let blobs = vec![blob(len, seed as u8)];
        let answer = within("reverse_blobs", client.reverse_blobs(blobs.clone())).await;
        assert_eq!(answer, Ok(reversed(&blobs)), "a blob of {len} bytes");
    }
    let mixed: Vec<Bytes> = sizes
        .iter()
        .enumerate()
        .map(|(i, &len)| blob(len, i as u8))
        .collect();
    let answer = within("reverse_blobs", client.reverse_blobs(mixed.clone())).await;
    assert_eq!(
        answer,
        Ok(reversed(&mixed)),
        "blobs of every size in one call"
    );
}

/// 1000 sends and invokes in a random mix enter main's listener and handler in the order the
/// renderer issued them (an invoke is issued when its call is first polled); replies may come in
/// any order.
async fn mixed_sends_and_invokes_enter_in_issue_order(kind: Kind) {
    use futures_util::stream::{FuturesUnordered, StreamExt as _};
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("mixer").await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut calls = FuturesUnordered::new();
    for n in 0..1000u32 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        if seed >> 63 == 1 {
            client.mark_send(n).unwrap();
        } else {
            let mut call = client.mark(n).into_future();
            // Issued now: the first poll sends it (in process: enters the handler).
            if let std::task::Poll::Ready(reply) = futures_util::poll!(&mut call) {
                assert_eq!(reply, Ok(n));
                continue;
            }
            calls.push(async move { (n, call.await) });
        }
    }
    while let Some((n, reply)) = within("the replies", calls.next()).await {
        assert_eq!(reply, Ok(n));
    }
    let entered = within("1000 marks", client.marks(1000)).await.unwrap();
    let expected: Vec<u32> = (0..1000).collect();
    if entered != expected {
        let first = entered
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(entered.len().min(expected.len()));
        panic!(
            "handlers entered out of order at position {first}: {:?}",
            &entered[first.saturating_sub(3)..(first + 4).min(entered.len())]
        );
    }
}

/// Strings, bytes and nested structs of 0 B, 64 KiB, 3 MiB and 6 MiB cross by invoke (both
/// ways) and by send with the default limits: messages above a frame (4 MiB) travel in chunks.
async fn payloads_of_every_size_cross_by_invoke_and_send(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("heavy").await;
    let mut bulk = client.on_bulk();
    const MIB: usize = 1 << 20;
    for (round, len) in [0, 64 * 1024, 3 * MIB, 6 * MIB].into_iter().enumerate() {
        let text: String = (0..len)
            .map(|i| char::from(b'a' + ((i * 7 + round) % 26) as u8))
            .collect();
        let sample = Sample {
            text,
            number: round as i32,
            // A nested list of about the same size (4 bytes an item in memory).
            items: (0..len / 4).map(|i| i as u32 ^ 0x5a5a).collect(),
            note: Some("nested".into()),
        };
        let echoed = within("echo", client.echo(sample.clone())).await;
        assert!(echoed.as_ref() == Ok(&sample), "echo of {len} bytes");
        let blob: Bytes = (0..len)
            .map(|i| (i as u8).wrapping_mul(13))
            .collect::<Vec<u8>>()
            .into();
        let reversed = within("reverse_blobs", client.reverse_blobs(vec![blob.clone()])).await;
        let expected: Vec<u8> = blob.iter().rev().copied().collect();
        assert!(
            reversed
                .as_ref()
                .is_ok_and(|r| r.len() == 1 && r[0][..] == expected[..]),
            "blob of {len} bytes"
        );
        // An event of that size, emitted by a handler: it arrives before the reply.
        let returned = within("emit_bulk", client.emit_bulk(len as u32)).await;
        assert!(
            returned.as_ref().is_ok_and(|s| *s == bulk_sample(len)),
            "reply of {len} bytes after an event of that size"
        );
        let event = bulk.next().now_or_never();
        assert!(
            matches!(&event, Some(Some(Ok(s))) if *s == bulk_sample(len)),
            "event of {len} bytes"
        );
        client.heavy(sample.clone(), blob.clone()).unwrap();
        let seen = within("heavy sends", client.heavy_received(round as u32 + 1))
            .await
            .unwrap();
        assert_eq!(
            seen[round],
            HeavyInfo {
                text_len: len as u32,
                items: (len / 4) as u32,
                blob_len: len as u32,
                checksum: heavy_checksum(&sample, &blob),
            },
            "send of {len} bytes"
        );
    }
    assert_eq!(within("next", client.next()).await, Ok(1), "still serving");
}

/// A subscription that falls behind its buffer yields exactly what fits, then a lag notice with
/// the exact count of the events it missed, then the events after them.
async fn a_slow_subscriber_gets_a_lag_notice_with_the_exact_count(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let renderer = harness
        .connect(options("slow-reader").event_buffer(4))
        .await
        .unwrap();
    let client = Conformance::client(&renderer);
    let mut ticks = client.on_tick();
    // Not read meanwhile: the events a handler emits arrive before its reply, so all 100 ticks
    // have reached the subscription when the call returns.
    assert_eq!(
        within("emit", client.emit(EmitTarget::Caller, 0, 100)).await,
        Ok(1)
    );
    for value in 0..4 {
        assert_eq!(next_event(&mut ticks).await, value);
    }
    assert_eq!(
        within("the lag notice", ticks.next()).await,
        Some(Err(EventError::Lagged { missed: 96 }))
    );
    assert_eq!(
        within("emit", client.emit(EmitTarget::Caller, 100, 1)).await,
        Ok(1)
    );
    assert_eq!(next_event(&mut ticks).await, 100);
}

/// A handler that panics after it awaited (so it runs as a task, not in its first poll) fails its
/// own call with `HandlerPanicked`; main keeps serving.
async fn handler_panic_after_an_await_is_reported(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("late-crash").await;
    match within("crash_later", client.crash_later("late boom".into())).await {
        Err(IpcError::HandlerPanicked { channel, message }) => {
            assert_eq!(channel, Conformance::CRASH_LATER.name());
            assert_eq!(message, "late boom");
        }
        other => panic!("expected HandlerPanicked, got {other:?}"),
    }
    assert_eq!(within("next", client.next()).await, Ok(1));
}

/// A renderer process killed while it sends 24 MiB messages in chunks: main frees the partial
/// message it held, forgets the renderer, and serves the next one.
async fn a_renderer_killed_mid_transfer_is_forgotten_and_freed(kind: Kind) {
    let host = Host::start(kind).await;
    for round in 0..3 {
        let mut peer = host
            .spawn_peer(&format!("huge-{round}"), Scenario::HugeSends)
            .await;
        // The first message arrived whole (the host saw the peer); wait for a later one to be
        // halfway, then kill the sender.
        eventually("a message to be partly received", || {
            host.main.partial_message_bytes() > 0
        })
        .await;
        peer.kill().await;
        eventually("main to forget the killed renderer", || {
            host.main.renderer(peer.id).is_none()
        })
        .await;
        eventually("main to free the partial message", || {
            host.main.partial_message_bytes() == 0
        })
        .await;
    }
    let mut peer = host.spawn_peer("after", Scenario::Hello).await;
    within(
        "the next renderer to be served",
        host.state.wait_for(|s| s.sends_from("after") == ["hello"]),
    )
    .await;
    host.main.disconnect(peer.id);
    peer.finished().await;
}

// ---------------------------------------------------------------------------------------------
// Every case on every transport.
// ---------------------------------------------------------------------------------------------
// Streams, ports and requests from main (docs/PROTOCOL.md §7.1, §7.2)

/// The port window both sides use unless told otherwise.
const WINDOW: u32 = ipc_runtime::DEFAULT_PORT_WINDOW as u32;

/// A stream's items arrive in order, then its end as the producer ended it: finished, or with
/// the producer's error after the items before it.
async fn streams_arrive_in_order_and_end_as_produced(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("streamer").await;
    let stream = within("numbers", client.numbers(7, 1000, None))
        .await
        .unwrap();
    let items: Vec<_> = within("the stream", stream.collect::<Vec<_>>()).await;
    let expected: Vec<Result<u32, CallError<ConfError>>> = (7..1007).map(Ok).collect();
    assert_eq!(items, expected);

    let stream = within("numbers", client.numbers(0, 10, Some(4)))
        .await
        .unwrap();
    let items: Vec<_> = within("the stream", stream.collect::<Vec<_>>()).await;
    assert_eq!(
        items,
        vec![
            Ok(0),
            Ok(1),
            Ok(2),
            Ok(3),
            Err(CallError::App(ConfError::DivisionByZero { dividend: 4 }))
        ]
    );
}

/// A producer whose consumer stops reading stays within the window of items the consumer has
/// room for (it stalls; the connection and other calls go on), and stops when the consumer
/// drops the stream.
async fn a_stream_nobody_reads_stays_within_its_window_and_stops_when_dropped(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("idle-reader").await;
    let mut stream = within("endless", client.endless()).await.unwrap();
    for expected in 0..3 {
        assert_eq!(within("an item", stream.next()).await, Some(Ok(expected)));
    }
    // Other calls go on while the stream stalls.
    for n in 0..20 {
        assert_eq!(
            within("a call beside the stream", client.mark(n)).await,
            Ok(n)
        );
    }
    let stats = within("stream_stats", client.stream_stats()).await.unwrap();
    // Taken: 3; in flight at most a window; one more taken from the producer to wait for credit.
    assert!(
        stats.produced <= 3 + WINDOW + 1,
        "the producer ran ahead of the consumer's window: {stats:?}"
    );
    assert_eq!(stats.stopped, 0);
    drop(stream);
    within("the producer to stop", async {
        loop {
            let stats = client.stream_stats().await.unwrap();
            if stats.stopped == 1 {
                break stats;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// An upload reaches main's handler in order; the upload's own error reaches it as such.
async fn an_upload_is_summed_and_its_error_reaches_the_handler(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("uploader").await;
    let sum = within(
        "sum",
        client.sum(ipc_runtime::Stream::from_iter(1..=1000u32)),
    )
    .await;
    assert_eq!(sum, Ok(500_500));
    let failing = futures_util::stream::iter(vec![
        Ok(1),
        Ok(2),
        Err(ConfError::DivisionByZero { dividend: 3 }),
        Ok(4),
    ]);
    let sum = within("sum", client.sum(ipc_runtime::Stream::try_new(failing))).await;
    assert_eq!(
        sum,
        Err(CallError::App(ConfError::DivisionByZero { dividend: 3 }))
    );
    // A sender feeding an upload as it goes.
    let (sender, upload) = ipc_runtime::Stream::<u32, ConfError>::channel();
    let feeding = tokio::spawn(async move {
        for n in 0..200 {
            sender.send(n).await.unwrap();
        }
    });
    assert_eq!(within("sum", client.sum(upload)).await, Ok(19_900));
    within("the feeder", feeding).await.unwrap();
}

/// A port round-trips messages in order; messages sent before the renderer reads wait (past a
/// window of them, as credit comes); a close from either end reaches the other.
async fn ports_round_trip_queue_and_close_both_ways(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("porter").await;
    let echo = within("echo_port", client.echo_port()).await.unwrap();
    for n in 0..100 {
        echo.send(format!("line {n}")).await.unwrap();
        assert_eq!(
            within("an echo", echo.recv()).await,
            Some(Ok(format!("LINE {n}")))
        );
    }
    // Main closes its end: this end sees the close, and its sends fail.
    echo.send("close".into()).await.unwrap();
    assert_eq!(within("the close", echo.recv()).await, None);
    assert!(echo.is_closed());
    assert!(echo.send("late".into()).await.is_err());

    // Sent all at once by main, before this end reads: all arrive, in order, then the close.
    let burst = within("burst", client.burst(10 * WINDOW)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut got = Vec::new();
    while let Some(item) = within("a burst item", burst.recv()).await {
        got.push(item.unwrap());
    }
    assert_eq!(got, (0..10 * WINDOW).collect::<Vec<_>>());

    // This end closes: main's end sees it (its echo task ends: nothing answers any more).
    let echo = within("echo_port", client.echo_port()).await.unwrap();
    echo.send("one".into()).await.unwrap();
    assert_eq!(within("an echo", echo.recv()).await, Some(Ok("ONE".into())));
    echo.close();
    assert!(echo.is_closed());
}

/// What a renderer answers to main's requests, counting the `hang` handlers dropped.
struct Answerer {
    hangs_dropped: Arc<AtomicU32>,
}

struct HangGuard(Arc<AtomicU32>);

impl Drop for HangGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl ipc_tests::ConformanceRendererHandler for Answerer {
    async fn question(&self, n: u32) -> Result<u32, ConfError> {
        if n == 0 {
            return Err(ConfError::DivisionByZero { dividend: 0 });
        }
        Ok(2 * n)
    }

    async fn hang(&self) -> u32 {
        let _guard = HangGuard(self.hangs_dropped.clone());
        std::future::pending::<()>().await;
        0
    }

    async fn clock(&self, at: SystemTime) -> Option<SystemTime> {
        at.checked_add(Duration::from_secs(1))
    }
}

/// A sink a renderer serves for main: it keeps a running total.
struct Totals(std::sync::Mutex<u32>);

impl ipc_tests::SinkHandler for Totals {
    async fn push(&self, value: u32) -> u32 {
        let mut total = self.0.lock().unwrap();
        *total += value;
        *total
    }
}

/// Capabilities: a counter object main hands out, called through its handle with the rules of
/// any invoke (its application error, a handler's panic, a deadline that cancels the method on
/// main's side, a dropped call that does too), released when the renderer drops the handle,
/// revoked by main (later calls get `Revoked`); and a renderer's own object handed to main, which
/// calls it back.
async fn capabilities_call_release_revoke_and_call_back(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("holder").await;
    let counter = within("counter", client.counter(5)).await.unwrap().client();
    assert_eq!(within("add", counter.add(2)).await, Ok(7));
    assert_eq!(within("get", counter.get()).await, Ok(7));
    assert_eq!(within("add", counter.add(-10)).await, Ok(-3));
    assert_eq!(
        within("get", counter.get()).await,
        Err(CallError::App(ConfError::DivisionByZero { dividend: -3 }))
    );
    match within("explode", counter.explode("boom".into())).await {
        Err(CallError::Ipc(IpcError::HandlerPanicked { channel, message })) => {
            assert_eq!(channel, "counter");
            assert!(message.contains("boom"), "{message}");
        }
        other => panic!("a panic is reported: {other:?}"),
    }
    assert_eq!(within("add after the panic", counter.add(3)).await, Ok(0));
    let limit = Duration::from_millis(50);
    assert_eq!(
        within("stall", counter.stall().timeout(limit)).await,
        Err(CallError::Ipc(IpcError::Timeout {
            channel: "counter:stall".into(),
            after: limit,
        }))
    );
    let dropped = tokio::time::timeout(limit, counter.stall().no_timeout().into_future()).await;
    assert!(dropped.is_err(), "the call was given up");
    within("both stalls to be cancelled on main", async {
        while client.counter_stats().await.unwrap().stalls_cancelled < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let stats = within("counter_stats", client.counter_stats())
        .await
        .unwrap();
    assert_eq!((stats.created, stats.live), (1, 1));

    drop(counter);
    assert_eq!(
        within("the counter to be released", client.wait_counters(0))
            .await
            .unwrap()
            .live,
        0
    );

    let revoked = within("counter", client.counter(1)).await.unwrap().client();
    assert_eq!(within("add", revoked.add(1)).await, Ok(2));
    assert_eq!(
        within("revoke", client.revoke_counters("maintenance".into())).await,
        Ok(1)
    );
    // Revoking drops the object at once, with no call needed to notice.
    assert_eq!(
        within("the revoked counter to be dropped", client.wait_counters(0))
            .await
            .unwrap()
            .live,
        0
    );
    let refused = Err(CallError::Ipc(IpcError::Revoked {
        capability: "counter".into(),
        reason: "maintenance".into(),
    }));
    assert_eq!(within("add after revoke", revoked.add(1)).await, refused);
    assert_eq!(within("get after revoke", revoked.add(1)).await, refused);
    assert_eq!(
        within("the revoked counter to be dropped", client.wait_counters(0))
            .await
            .unwrap()
            .live,
        0
    );

    let sink = ipc_tests::Sink::serve(Totals(std::sync::Mutex::new(0)));
    assert_eq!(within("fill_sink", client.fill_sink(sink, 4)).await, Ok(10));
}

/// A handle handed on: main gives the first renderer's counter to the second, which calls it;
/// the first no longer reaches it; the second dropping it releases the object.
async fn a_handle_passes_to_another_renderer(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_first_renderer, first) = harness.client("first").await;
    let (_second_renderer, second) = harness.client("second").await;
    let mut given = second.on_counter_given();
    let counter = within("counter", first.counter(10)).await.unwrap();
    let kept = counter.clone().client();
    // A call before the handover: this side's reader is running when the handle leaves.
    assert_eq!(within("add before the handover", kept.add(0)).await, Ok(10));
    assert_eq!(
        within("give_counter", first.give_counter(counter, "second".into())).await,
        Ok(true)
    );
    let counter = next_event(&mut given).await.client();
    assert_eq!(within("add", counter.add(1)).await, Ok(11));
    // (In one process a handle moves as itself, and its clones share it, as a port's do.)
    if !matches!(kind, Kind::InProcess) {
        let late = kept.add(1).timeout(Duration::from_secs(20));
        assert!(
            matches!(
                within("the first's add", late).await,
                Err(CallError::Ipc(IpcError::Disconnected { .. }))
            ),
            "the first renderer sent its handle away"
        );
    }
    drop(kept);
    drop(counter);
    assert_eq!(
        within("the counter to be released", first.wait_counters(0))
            .await
            .unwrap()
            .live,
        0
    );
}

/// Timestamps before 1970 and after, with nanoseconds, of every supported crate.
fn sample_times() -> Times {
    let nanos: i128 = -14_182_940_000_000_000 + 123_456_789;
    let system = UNIX_EPOCH - Duration::new(14_182_939, 876_543_211);
    let chrono = chrono::DateTime::from_timestamp(-14_182_940, 123_456_789).unwrap();
    Times {
        system,
        chrono,
        fixed: chrono.fixed_offset(),
        offset: time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap(),
        utc: time::UtcDateTime::from_unix_timestamp_nanos(1_700_000_000_987_654_321).unwrap(),
        jiff: jiff::Timestamp::from_nanosecond(-1).unwrap(),
        spans: (
            Duration::new(3, 1),
            chrono::TimeDelta::new(-2, 5).unwrap(),
            time::Duration::new(-7, -250_000_000),
            jiff::SignedDuration::from_nanos(86_400_000_000_123),
        ),
        history: vec![Some(system), None, Some(UNIX_EPOCH)],
        by_name: [
            ("moon".to_string(), system),
            ("epoch".to_string(), UNIX_EPOCH),
        ]
        .into(),
    }
}

/// Time values cross in their one wire form (RFC 3339 text, milliseconds) and come back as
/// they were, to the nanosecond: nested in a struct of every supported crate's types, as a
/// method's arguments and result, in an event, in a sync call and in main's request.
async fn time_values_cross_exactly(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (renderer, client) = harness.client("clock").await;
    let mut moments = client.on_moment();
    let times = sample_times();
    for (by, back) in [
        (Duration::ZERO, false),
        (Duration::new(1, 500_000_001), false),
        // Durations are exact to the nanosecond up to 2^31 ms (docs/PROTOCOL.md §4, "Time values").
        (Duration::new(86_400 * 24, 7), true),
    ] {
        let expected = times.shifted(by, back);
        assert_eq!(
            within("shift_times", client.shift_times(times.clone(), by, back)).await,
            Ok(expected.clone())
        );
        assert_eq!(next_event(&mut moments).await, (expected.system, expected));
    }
    let blocking = client.clone();
    let later = within(
        "later_now",
        tokio::task::spawn_blocking(move || {
            blocking.later_now(
                UNIX_EPOCH - Duration::from_nanos(1),
                Duration::from_millis(2),
            )
        }),
    )
    .await
    .unwrap();
    assert_eq!(later, Ok(UNIX_EPOCH + Duration::new(0, 1_999_999)));
    Conformance::handle_requests(
        &renderer,
        Answerer {
            hangs_dropped: Arc::new(AtomicU32::new(0)),
        },
    )
    .unwrap();
    assert_eq!(
        within(
            "ask_clock",
            client.ask_clock(UNIX_EPOCH - Duration::from_millis(1500))
        )
        .await,
        Ok(Some(UNIX_EPOCH - Duration::from_millis(500)))
    );
}

/// Main asks the renderer: answers, the application's error, `no_handler` before a handler is
/// registered, and a deadline that cancels the renderer's handler.
async fn main_asks_the_renderer_and_cancels_at_its_deadline(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (renderer, client) = harness.client("asked").await;
    assert_eq!(
        within("ask_me", client.ask_me(4, 5000)).await,
        Err(CallError::App("no_handler".into()))
    );
    let hangs_dropped = Arc::new(AtomicU32::new(0));
    Conformance::handle_requests(
        &renderer,
        Answerer {
            hangs_dropped: hangs_dropped.clone(),
        },
    )
    .unwrap();
    assert_eq!(within("ask_me", client.ask_me(21, 5000)).await, Ok(42));
    assert_eq!(
        within("ask_me", client.ask_me(0, 5000)).await,
        Err(CallError::App("app: cannot divide 0 by zero".into()))
    );
    for n in 1..=20 {
        assert_eq!(within("ask_me", client.ask_me(n, 5000)).await, Ok(2 * n));
    }
    assert_eq!(
        within("ask_me_to_hang", client.ask_me_to_hang(100)).await,
        Ok("timeout".into())
    );
    eventually("the renderer's handler to be dropped", || {
        hangs_dropped.load(Ordering::SeqCst) == 1
    })
    .await;
    // A second registration of the same contract is refused.
    assert!(
        Conformance::handle_requests(
            &renderer,
            Answerer {
                hangs_dropped: hangs_dropped.clone()
            }
        )
        .is_err()
    );
}

/// Two renderers introduced by main talk to each other over the two ends of one port pair
/// (relayed by main); one end closing closes the other.
async fn renderers_talk_through_main_over_a_port_pair(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_alice_renderer, alice) = harness.client("alice").await;
    let (_bob_renderer, bob) = harness.client("bob").await;
    let mut alice_pairs = alice.on_paired();
    let mut bob_pairs = bob.on_paired();
    assert_eq!(
        within("pair_with", alice.pair_with("bob".into())).await,
        Ok(true)
    );
    let to_bob = next_event(&mut alice_pairs).await;
    let to_alice = next_event(&mut bob_pairs).await;
    for n in 0..50 {
        within("alice's ping", to_bob.send(format!("ping {n}")))
            .await
            .unwrap();
        assert_eq!(
            within("alice's message", to_alice.recv()).await,
            Some(Ok(format!("ping {n}")))
        );
        within("bob's pong", to_alice.send(format!("pong {n}")))
            .await
            .unwrap();
        assert_eq!(
            within("bob's answer", to_bob.recv()).await,
            Some(Ok(format!("pong {n}")))
        );
    }
    // A burst past every window on the way, read as it comes: in order, nothing lost.
    let sender = tokio::spawn({
        let to_bob = to_bob.clone();
        async move {
            for n in 0..500u32 {
                to_bob.send(format!("burst {n}")).await.unwrap();
            }
        }
    });
    for n in 0..500u32 {
        assert_eq!(
            within("a burst message", to_alice.recv()).await,
            Some(Ok(format!("burst {n}")))
        );
    }
    within("the sender", sender).await.unwrap();
    drop(to_bob);
    assert_eq!(within("the close", to_alice.recv()).await, None);
}

/// Main goes away while a stream and a port are open: the stream ends with `Disconnected`, the
/// port sees its close. (Across processes only: in process a stream or port end moves as a
/// value and lives with whoever holds it, whatever happens to the connection.)
async fn main_killed_ends_streams_and_ports(kind: Kind) {
    let mut harness = Harness::start(kind).await;
    let (_renderer, client) = harness.client("cut-off").await;
    let mut stream = within("endless", client.endless()).await.unwrap();
    assert_eq!(within("an item", stream.next()).await, Some(Ok(0)));
    let port = within("echo_port", client.echo_port()).await.unwrap();
    harness.kill_main().await;
    // Items already on their way may come first; then the end.
    let end = within("the stream's end", async {
        loop {
            match stream.next().await {
                Some(Ok(_)) => continue,
                other => break other,
            }
        }
    })
    .await;
    assert!(
        matches!(
            end,
            Some(Err(CallError::Ipc(IpcError::Disconnected { .. })))
        ),
        "{end:?}"
    );
    assert_eq!(
        within("the stream after its end", stream.next()).await,
        None
    );
    assert_eq!(within("the port's close", port.recv()).await, None);
}

/// A renderer killed while it holds a thousand handles: main releases every object behind them
/// and forgets their ports with the renderer.
async fn a_renderer_killed_holding_handles_releases_them(kind: Kind) {
    let host = Host::start(kind).await;
    let mut peer = host.spawn_peer("holder", Scenario::Holding).await;
    within(
        "the peer to hold its counters",
        host.state
            .wait_for(|s| s.sends_from("holder").contains(&"holding".to_string())),
    )
    .await;
    let stats = host.state.counter_stats();
    assert_eq!((stats.created, stats.live), (HELD_COUNTERS, HELD_COUNTERS));
    // (A renderer in main's own process holds its ports outside any connection's table.)
    if !matches!(kind, Kind::InProcess) {
        assert_eq!(host.main.open_ports(peer.id), Some(HELD_COUNTERS as usize));
    }
    peer.kill().await;
    eventually("every counter to be released", || {
        host.state.counter_stats().live == 0
    })
    .await;
    eventually("main to forget the renderer", || {
        host.main.renderer(peer.id).is_none()
    })
    .await;
    assert_eq!(host.main.open_ports(peer.id), None);
}

/// A renderer killed while it holds a stream and a port from main: main stops the stream's
/// producer and forgets the ports with the renderer.
async fn a_renderer_killed_while_streaming_stops_the_producer(kind: Kind) {
    let host = Host::start(kind).await;
    let mut peer = host.spawn_peer("streamer", Scenario::Streaming).await;
    within(
        "the peer to stream",
        host.state
            .wait_for(|s| s.sends_from("streamer").contains(&"streaming".to_string())),
    )
    .await;
    assert_eq!(host.state.stream_stats().stopped, 0);
    peer.kill().await;
    within(
        "the producer to stop",
        host.state.wait_for(|s| s.stream_stats().stopped == 1),
    )
    .await;
    eventually("main to forget the renderer", || {
        host.main.renderer(peer.id).is_none()
    })
    .await;
    assert_eq!(host.main.open_ports(peer.id), None);
}

// ---------------------------------------------------------------------------------------------

/// One module of tests for one transport: the shared cases, then this transport's own list of
/// cases.
macro_rules! transport {
    (
        $module:ident,
        $kind:expr,
        [$($case:ident),* $(,)?],
        [$($(#[$attr:meta])* $extra:ident),* $(,)?]
    ) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($kind).await;
                }
            )*
            $(
                $(#[$attr])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $extra() {
                    super::$extra($kind).await;
                }
            )*
        }
    };
}

macro_rules! suite {
    (every transport: $cases:tt, $($module:ident: $kind:expr => $extra:tt),* $(,)?) => {
        $(transport!($module, $kind, $cases, $extra);)*
    };
}

suite! {
    every transport: [
        invoke_round_trip_app_error_vs_framework_error,
        blobs_of_every_size_round_trip,
        sends_arrive_in_order,
        events_arrive_in_order_and_to_the_right_renderer,
        concurrent_calls_all_complete,
        dropping_a_call_cancels_the_handler,
        call_deadline_times_out_and_cancels,
        sync_calls_block_until_the_answer_or_the_deadline,
        default_timeout_applies,
        undeclared_channel_is_no_handler,
        bad_arguments_and_bad_reply,
        handler_panic_is_reported_and_main_keeps_serving,
        main_killed_fails_pending_calls,
        main_shutdown_fails_pending_calls,
        version_mismatch_is_refused,
        killed_renderer_is_cancelled_and_forgotten,
        exiting_renderer_is_cancelled_and_forgotten,
        events_reach_only_their_renderer_process,
        mixed_sends_and_invokes_enter_in_issue_order,
        payloads_of_every_size_cross_by_invoke_and_send,
        a_slow_subscriber_gets_a_lag_notice_with_the_exact_count,
        handler_panic_after_an_await_is_reported,
        streams_arrive_in_order_and_end_as_produced,
        a_stream_nobody_reads_stays_within_its_window_and_stops_when_dropped,
        an_upload_is_summed_and_its_error_reaches_the_handler,
        ports_round_trip_queue_and_close_both_ways,
        main_asks_the_renderer_and_cancels_at_its_deadline,
        a_renderer_killed_while_streaming_stops_the_producer,
        a_renderer_killed_holding_handles_releases_them,
        time_values_cross_exactly,
        capabilities_call_release_revoke_and_call_back,
    ],
    in_process: Kind::InProcess => [
        a_blocking_call_in_async_code_panics_and_sends_nothing,
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        renderers_talk_through_main_over_a_port_pair,
        a_handle_passes_to_another_renderer,
    ],
    unix_json: Kind::Unix(Codec::Json) => [
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        a_renderer_killed_mid_transfer_is_forgotten_and_freed,
        renderers_talk_through_main_over_a_port_pair,
        a_handle_passes_to_another_renderer,
        main_killed_ends_streams_and_ports,
    ],
    unix_binary: Kind::Unix(Codec::Binary) => [
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        a_renderer_killed_mid_transfer_is_forgotten_and_freed,
        renderers_talk_through_main_over_a_port_pair,
        a_handle_passes_to_another_renderer,
        main_killed_ends_streams_and_ports,
    ],
    websocket_json: Kind::WebSocket(Codec::Json) => [
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        a_renderer_killed_mid_transfer_is_forgotten_and_freed,
        renderers_talk_through_main_over_a_port_pair,
        a_handle_passes_to_another_renderer,
        main_killed_ends_streams_and_ports,
    ],
    websocket_binary: Kind::WebSocket(Codec::Binary) => [
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        a_renderer_killed_mid_transfer_is_forgotten_and_freed,
        renderers_talk_through_main_over_a_port_pair,
        a_handle_passes_to_another_renderer,
        main_killed_ends_streams_and_ports,
    ],
    websocket_msgpack: Kind::WebSocket(Codec::MessagePack) => [
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        a_renderer_killed_mid_transfer_is_forgotten_and_freed,
        renderers_talk_through_main_over_a_port_pair,
        a_handle_passes_to_another_renderer,
        main_killed_ends_streams_and_ports,
    ],
    stdio_msgpack: Kind::Stdio(Codec::MessagePack) => [
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        a_renderer_killed_mid_transfer_is_forgotten_and_freed,
        main_killed_ends_streams_and_ports,
    ],
    stdio_json: Kind::Stdio(Codec::Json) => [
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        a_renderer_killed_mid_transfer_is_forgotten_and_freed,
        main_killed_ends_streams_and_ports,
    ],
    stdio_binary: Kind::Stdio(Codec::Binary) => [
        events_emitted_by_a_handler_arrive_before_its_reply,
        dropped_renderer_is_forgotten_while_its_process_lives,
        sends_before_a_disconnect_are_all_handled,
        a_renderer_killed_mid_transfer_is_forgotten_and_freed,
        main_killed_ends_streams_and_ports,
    ],
}

/// The suite's own helpers are checked too: a peer scenario name round-trips.
#[test]
fn scenario_names_round_trip() {
    for scenario in SCENARIOS {
        assert_eq!(Scenario::from_name(scenario.name()), Some(scenario));
    }
    assert!(Path::new(PEER).exists(), "{PEER}");
}
