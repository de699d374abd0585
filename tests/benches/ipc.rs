//! Invoke round trips of this project next to the raw floor and a peer RPC library, in one run.
//!
//! Three groups, one per scenario; each benchmark's name says who carries the call:
//!
//! - `small_seq`: one caller, a 16-byte `String` echoed back, one call at a time.
//! - `small_c64`: 64 caller tasks on one connection, each calling in a loop; one iteration is 64
//!   calls (criterion's time per iteration is the time per 64 calls).
//! - `bytes_1mib`: one caller, 1 MiB of bytes echoed back.
//!
//! Callers run on runtime tasks (as an application's would), on one multi-thread Tokio runtime
//! per group that also runs every server.
//!
//! Who:
//!
//! - `ours_inproc`: `Main::connect_in_process` (values move, nothing is encoded).
//! - `ours_unix_binary`, `ours_unix_json`: `Main::listen_unix` + `Renderer::connect_unix` with
//!   [`Codec::Binary`] (MessagePack) and [`Codec::Json`]; bytes are [`ipc_runtime::Bytes`].
//! - `ours_inproc_nodeadline`, `ours_unix_binary_nodeadline` (small payloads only): the same
//!   with `RendererOptions::no_default_timeout()`, so no call arms a timer (shows what the
//!   per-call deadline costs).
//! - `raw_mpsc`: the in-process floor: a Tokio mpsc queue to an echo task that answers on a
//!   oneshot.
//! - `raw_unix`: the socket floor: 12-byte headers (length, call id) and the body on a Unix
//!   socket, echoed by a server task. One caller drives the stream itself (write, flush, read);
//!   with 64 callers (`small_c64`) the stream is shared through a minimal multiplexer (a writer
//!   task that flushes when its queue runs dry, a reader task that completes oneshots by id),
//!   which is also measured sequentially as `raw_unix_mux`.
//! - `tarpc_inproc`, `tarpc_unix`: tarpc with `transport::channel::unbounded` and with its Unix
//!   `serde_transport` and the bincode codec (`bytes::Bytes` payloads, one task per request as
//!   tarpc's examples do).
//!
//! `scripts/bench.sh` runs this and prints the ratios. Under `cargo test` criterion runs every
//! benchmark once (a quick check that all of them work).

mod support;

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use futures_util::StreamExt;
use ipc_runtime::{Caller, Codec, Main, Renderer, RendererOptions, UnixListenerHandle};
use support::{SocketDir, read_frame, write_frame};
use tarpc::server::Channel as _;
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};

/// The small payload: 16 bytes.
const SMALL: &str = "0123456789abcdef";
/// The large payload's size.
const BLOB_LEN: usize = 1 << 20;
/// Concurrent callers in `small_c64`.
const CALLERS: u64 = 64;

// ---------------------------------------------------------------------------------------------
// The three contenders behind one interface.

/// Something that echoes a string and bytes back from "the other side".
trait Echo: Clone + Send + Sync + 'static {
    fn echo(&self, text: String) -> impl Future<Output = String> + Send;
    fn blob(&self, data: Bytes) -> impl Future<Output = Bytes> + Send;
}

// --- This project ----------------------------------------------------------------------------

/// The benchmark contract.
#[ipc_runtime::channels(namespace = "bench")]
pub trait Bench {
    /// Returns `text`.
    async fn echo(&self, text: String) -> String;
    /// Returns `data`.
    async fn blob(&self, data: ipc_runtime::Bytes) -> ipc_runtime::Bytes;
    /// A handle to an echoing object: the same calls through a capability.
    async fn echoer(&self) -> ipc_runtime::Handle<Echoer>;
}

/// The benchmark's capability: `Bench`'s calls, on one object reached through a handle.
#[ipc_runtime::channels(namespace = "echoer", capability)]
pub trait Echoer {
    /// Returns `text`.
    async fn echo(&self, text: String) -> String;
    /// Returns `data`.
    async fn blob(&self, data: ipc_runtime::Bytes) -> ipc_runtime::Bytes;
}

struct EchoObject;

impl EchoerHandler for EchoObject {
    async fn echo(&self, text: String) -> String {
        text
    }

    async fn blob(&self, data: ipc_runtime::Bytes) -> ipc_runtime::Bytes {
        data
    }
}

/// Calls through a handle.
#[derive(Clone)]
struct OursHandle(EchoerClient);

impl Echo for OursHandle {
    fn echo(&self, text: String) -> impl Future<Output = String> + Send {
        let call = self.0.echo(text);
        async move { call.await.expect("echo failed") }
    }

    fn blob(&self, data: Bytes) -> impl Future<Output = Bytes> + Send {
        let call = self.0.blob(ipc_runtime::Bytes::from(data));
        async move { call.await.expect("blob failed").into_inner() }
    }
}

struct BenchBackend;

impl BenchHandler for BenchBackend {
    async fn echo(&self, _caller: &Caller, text: String) -> String {
        text
    }

    async fn blob(&self, _caller: &Caller, data: ipc_runtime::Bytes) -> ipc_runtime::Bytes {
        data
    }

    async fn echoer(&self, _caller: &Caller) -> ipc_runtime::Handle<Echoer> {
        Echoer::serve(EchoObject)
    }
}

#[derive(Clone)]
struct Ours(BenchClient);

impl Ours {
    fn new(renderer: Renderer) -> Self {
        Ours(BenchClient::new(renderer))
    }
}

impl Echo for Ours {
    fn echo(&self, text: String) -> impl Future<Output = String> + Send {
        let call = self.0.echo(text);
        async move { call.await.expect("echo failed") }
    }

    fn blob(&self, data: Bytes) -> impl Future<Output = Bytes> + Send {
        let call = self.0.blob(ipc_runtime::Bytes::from(data));
        async move { call.await.expect("blob failed").into_inner() }
    }
}

// --- The in-process floor: mpsc + oneshot ----------------------------------------------------

enum Msg {
    Text(String),
    Blob(Bytes),
}

#[derive(Clone)]
struct RawMpsc(mpsc::Sender<(Msg, oneshot::Sender<Msg>)>);

impl RawMpsc {
    /// Starts the echo task (call inside the runtime).
    fn start() -> Self {
        let (tx, mut rx) = mpsc::channel::<(Msg, oneshot::Sender<Msg>)>(1024);
        tokio::spawn(async move {
            while let Some((msg, reply)) = rx.recv().await {
                let _ = reply.send(msg);
            }
        });
        RawMpsc(tx)
    }

    async fn call(&self, msg: Msg) -> Msg {
        let (tx, rx) = oneshot::channel();
        self.0.send((msg, tx)).await.expect("echo task gone");
        rx.await.expect("echo task dropped the reply")
    }
}

impl Echo for RawMpsc {
    async fn echo(&self, text: String) -> String {
        match self.call(Msg::Text(text)).await {
            Msg::Text(text) => text,
            Msg::Blob(_) => unreachable!(),
        }
    }

    async fn blob(&self, data: Bytes) -> Bytes {
        match self.call(Msg::Blob(data)).await {
            Msg::Blob(data) => data,
            Msg::Text(_) => unreachable!(),
        }
    }
}

// --- The socket floor: length-prefixed frames on a Unix socket -------------------------------

/// Accepts connections and echoes every frame back as it is (flushing whenever no further
/// request is already buffered, so a burst of requests shares a write).
async fn raw_echo_server(listener: UnixListener) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(async move {
            let (read, write) = stream.into_split();
            let mut read = BufReader::with_capacity(64 * 1024, read);
            let mut write = BufWriter::with_capacity(64 * 1024, write);
            while let Ok((id, body)) = read_frame(&mut read).await {
                if write_frame(&mut write, id, &body).await.is_err()
                    || (read.buffer().is_empty() && write.flush().await.is_err())
                {
                    return;
                }
            }
        });
    }
}

type Stream = (BufReader<OwnedReadHalf>, BufWriter<OwnedWriteHalf>);

async fn connect_raw(path: &Path) -> Stream {
    let (read, write) = UnixStream::connect(path)
        .await
        .expect("connect to the raw echo server")
        .into_split();
    (
        BufReader::with_capacity(64 * 1024, read),
        BufWriter::with_capacity(64 * 1024, write),
    )
}

/// One caller drives the stream itself: write the frame, flush, read the answer. (The lock is
/// never contended: this client is only used by one caller at a time.)
#[derive(Clone)]
struct RawUnix(Arc<tokio::sync::Mutex<Stream>>);

impl RawUnix {
    async fn connect(path: &Path) -> Self {
        RawUnix(Arc::new(tokio::sync::Mutex::new(connect_raw(path).await)))
    }

    async fn round_trip(&self, body: &[u8]) -> Bytes {
        let mut stream = self.0.lock().await;
        let (read, write) = &mut *stream;
        write_frame(write, 0, body).await.unwrap();
        write.flush().await.unwrap();
        read_frame(read).await.expect("raw echo server gone").1
    }
}

impl Echo for RawUnix {
    async fn echo(&self, text: String) -> String {
        std::str::from_utf8(&self.round_trip(text.as_bytes()).await)
            .unwrap()
            .to_owned()
    }

    async fn blob(&self, data: Bytes) -> Bytes {
        self.round_trip(&data).await
    }
}

/// Many callers on one stream: a writer task (flushing when its queue runs dry) and a reader
/// task that completes each caller's oneshot by call id.
#[derive(Clone)]
struct RawUnixMux(Arc<MuxInner>);

struct MuxInner {
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Bytes>>>,
    outgoing: mpsc::Sender<(u64, Bytes)>,
}

impl RawUnixMux {
    async fn connect(path: &Path) -> Self {
        let (mut read, mut write) = connect_raw(path).await;
        let (outgoing, mut queue) = mpsc::channel::<(u64, Bytes)>(1024);
        let inner = Arc::new(MuxInner {
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            outgoing,
        });
        tokio::spawn(async move {
            while let Some((id, body)) = queue.recv().await {
                if write_frame(&mut write, id, &body).await.is_err()
                    || (queue.is_empty() && write.flush().await.is_err())
                {
                    return;
                }
            }
        });
        let reader = inner.clone();
        tokio::spawn(async move {
            while let Ok((id, body)) = read_frame(&mut read).await {
                let slot = reader.pending.lock().unwrap().remove(&id);
                if let Some(slot) = slot {
                    let _ = slot.send(body);
                }
            }
        });
        RawUnixMux(inner)
    }

    async fn round_trip(&self, body: Bytes) -> Bytes {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.0.pending.lock().unwrap().insert(id, tx);
        self.0.outgoing.send((id, body)).await.unwrap();
        rx.await.expect("raw echo connection closed")
    }
}

impl Echo for RawUnixMux {
    async fn echo(&self, text: String) -> String {
        std::str::from_utf8(&self.round_trip(Bytes::from(text)).await)
            .unwrap()
            .to_owned()
    }

    async fn blob(&self, data: Bytes) -> Bytes {
        self.round_trip(data).await
    }
}

// --- The peer: tarpc -------------------------------------------------------------------------

#[tarpc::service]
trait Peer {
    async fn echo(text: String) -> String;
    async fn blob(data: Bytes) -> Bytes;
}

#[derive(Clone)]
struct PeerServer;

impl Peer for PeerServer {
    async fn echo(self, _: tarpc::context::Context, text: String) -> String {
        text
    }

    async fn blob(self, _: tarpc::context::Context, data: Bytes) -> Bytes {
        data
    }
}

/// Serves one tarpc connection, each request on its own task (tarpc's documented setup).
fn serve_tarpc<T>(transport: T)
where
    T: tarpc::Transport<tarpc::Response<PeerResponse>, tarpc::ClientMessage<PeerRequest>>
        + Send
        + 'static,
{
    let channel = tarpc::server::BaseChannel::with_defaults(transport);
    tokio::spawn(
        channel
            .execute(PeerServer.serve())
            .for_each(|response| async move {
                tokio::spawn(response);
            }),
    );
}

#[derive(Clone)]
struct Tarpc(PeerClient);

impl Echo for Tarpc {
    async fn echo(&self, text: String) -> String {
        self.0
            .echo(tarpc::context::current(), text)
            .await
            .expect("tarpc echo failed")
    }

    async fn blob(&self, data: Bytes) -> Bytes {
        self.0
            .blob(tarpc::context::current(), data)
            .await
            .expect("tarpc blob failed")
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures: every contender connected, on one runtime per group.

/// Fields drop in order: the clients and servers first, the runtime last.
struct Fixtures {
    ours_inproc: Ours,
    ours_unix_binary: Ours,
    ours_unix_json: Ours,
    ours_inproc_nodeadline: Ours,
    ours_unix_binary_nodeadline: Ours,
    raw_mpsc: RawMpsc,
    ours_handle_inproc: OursHandle,
    ours_handle_unix_binary: OursHandle,
    raw_unix: RawUnix,
    raw_unix_mux: RawUnixMux,
    tarpc_inproc: Tarpc,
    tarpc_unix: Tarpc,
    _listener: UnixListenerHandle,
    _main: Main,
    _dir: SocketDir,
    rt: Runtime,
}

impl Fixtures {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("build the Tokio runtime");
        let dir = SocketDir::new("calls");
        let ours = rt.block_on(async {
            let main = Main::new();
            let _registration = Bench::handle(&main, BenchBackend).expect("register the handler");
            let listener = main
                .listen_unix(dir.path("ours.sock"))
                .expect("listen on the socket");
            let options = || RendererOptions::new("bench");
            let inproc = main.connect_in_process(options());
            // Without a deadline neither side arms a timer per call.
            let inproc_nodeadline = main.connect_in_process(options().no_default_timeout());
            let unix = |options: RendererOptions| Renderer::connect_unix(listener.path(), options);
            let binary = unix(options().codec(Codec::Binary)).await;
            let json = unix(options().codec(Codec::Json)).await;
            let binary_nodeadline = unix(options().codec(Codec::Binary).no_default_timeout()).await;
            let connected = [
                Ok(inproc),
                binary,
                json,
                Ok(inproc_nodeadline),
                binary_nodeadline,
            ]
            .map(|renderer| Ours::new(renderer.expect("connect to main")));
            (main, listener, connected)
        });
        let (
            main,
            listener,
            [
                ours_inproc,
                ours_unix_binary,
                ours_unix_json,
                ours_inproc_nodeadline,
                ours_unix_binary_nodeadline,
            ],
        ) = ours;
        let handle = |ours: &Ours| {
            let client = ours.0.clone();
            rt.block_on(
                async move { OursHandle(client.echoer().await.expect("a handle").client()) },
            )
        };
        let (ours_handle_inproc, ours_handle_unix_binary) =
            (handle(&ours_inproc), handle(&ours_unix_binary));
        let (raw_mpsc, raw_unix, raw_unix_mux) = rt.block_on(async {
            let path = dir.path("raw.sock");
            let listener = UnixListener::bind(&path).expect("bind the raw socket");
            tokio::spawn(raw_echo_server(listener));
            (
                RawMpsc::start(),
                RawUnix::connect(&path).await,
                RawUnixMux::connect(&path).await,
            )
        });
        let (tarpc_inproc, tarpc_unix) = rt.block_on(async {
            let (client, server) = tarpc::transport::channel::unbounded();
            serve_tarpc(server);
            let inproc = Tarpc(PeerClient::new(tarpc::client::Config::default(), client).spawn());

            let path = dir.path("tarpc.sock");
            let mut incoming = tarpc::serde_transport::unix::listen(
                &path,
                tarpc::tokio_serde::formats::Bincode::default,
            )
            .await
            .expect("tarpc listen");
            tokio::spawn(async move {
                while let Some(Ok(transport)) = incoming.next().await {
                    serve_tarpc(transport);
                }
            });
            let transport = tarpc::serde_transport::unix::connect(
                &path,
                tarpc::tokio_serde::formats::Bincode::default,
            )
            .await
            .expect("tarpc connect");
            let unix = Tarpc(PeerClient::new(tarpc::client::Config::default(), transport).spawn());
            (inproc, unix)
        });
        let fixtures = Fixtures {
            ours_inproc,
            ours_unix_binary,
            ours_unix_json,
            ours_inproc_nodeadline,
            ours_unix_binary_nodeadline,
            ours_handle_inproc,
            ours_handle_unix_binary,
            raw_mpsc,
            raw_unix,
            raw_unix_mux,
            tarpc_inproc,
            tarpc_unix,
            _listener: listener,
            _main: main,
            _dir: dir,
            rt,
        };
        fixtures.check();
        fixtures
    }

    /// Every contender really echoes (so no benchmark measures an error path).
    fn check(&self) {
        let blob = blob();
        self.rt.block_on(async {
            macro_rules! check {
                ($($who:ident),*) => {$(
                    assert_eq!(self.$who.echo(SMALL.into()).await, SMALL, stringify!($who));
                    assert!(self.$who.blob(blob.clone()).await == blob, stringify!($who));
                )*};
            }
            check!(
                ours_inproc,
                ours_unix_binary,
                ours_unix_json,
                ours_inproc_nodeadline,
                ours_unix_binary_nodeadline,
                ours_handle_inproc,
                ours_handle_unix_binary,
                raw_mpsc,
                raw_unix,
                raw_unix_mux,
                tarpc_inproc,
                tarpc_unix
            );
        });
    }
}

fn blob() -> Bytes {
    (0..BLOB_LEN)
        .map(|i| (i.wrapping_mul(31) % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/// Runs `round` `iters` times on a runtime task (as an application's caller would run, rather
/// than on the benchmark thread outside the runtime) and returns the elapsed time.
async fn timed<C, F, Fut>(c: &C, iters: u64, round: F) -> Duration
where
    C: Echo,
    F: Fn(C) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let c = c.clone();
    tokio::spawn(async move {
        let start = Instant::now();
        for _ in 0..iters {
            round(c.clone()).await;
        }
        start.elapsed()
    })
    .await
    .expect("caller task panicked")
}

fn sequential<C: Echo>(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, name: &str, c: &C) {
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            timed(c, iters, |c| async move {
                black_box(c.echo(black_box(SMALL.to_string())).await);
            })
        });
    });
}

/// 64 caller tasks each make `iters` calls: the measured time is that of `iters` rounds of 64.
fn concurrent<C: Echo>(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, name: &str, c: &C) {
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let c = c.clone();
            async move {
                let start = Instant::now();
                let callers: Vec<_> = (0..CALLERS)
                    .map(|_| {
                        let c = c.clone();
                        tokio::spawn(async move {
                            for _ in 0..iters {
                                black_box(c.echo(black_box(SMALL.to_string())).await);
                            }
                        })
                    })
                    .collect();
                for caller in callers {
                    caller.await.expect("caller task panicked");
                }
                start.elapsed()
            }
        });
    });
}

fn large<C: Echo>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    c: &C,
    data: &Bytes,
) {
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let data = data.clone();
            timed(c, iters, move |c| {
                let data = data.clone();
                async move {
                    black_box(c.blob(black_box(data)).await);
                }
            })
        });
    });
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2));
}

fn small_seq(c: &mut Criterion) {
    let f = Fixtures::new();
    let mut group = c.benchmark_group("small_seq");
    configure(&mut group);
    group.throughput(Throughput::Elements(1));
    sequential(&mut group, &f.rt, "ours_inproc", &f.ours_inproc);
    sequential(&mut group, &f.rt, "ours_unix_binary", &f.ours_unix_binary);
    sequential(&mut group, &f.rt, "ours_unix_json", &f.ours_unix_json);
    sequential(
        &mut group,
        &f.rt,
        "ours_inproc_nodeadline",
        &f.ours_inproc_nodeadline,
    );
    sequential(
        &mut group,
        &f.rt,
        "ours_unix_binary_nodeadline",
        &f.ours_unix_binary_nodeadline,
    );
    sequential(
        &mut group,
        &f.rt,
        "ours_handle_inproc",
        &f.ours_handle_inproc,
    );
    sequential(
        &mut group,
        &f.rt,
        "ours_handle_unix_binary",
        &f.ours_handle_unix_binary,
    );
    sequential(&mut group, &f.rt, "raw_mpsc", &f.raw_mpsc);
    sequential(&mut group, &f.rt, "raw_unix", &f.raw_unix);
    sequential(&mut group, &f.rt, "raw_unix_mux", &f.raw_unix_mux);
    sequential(&mut group, &f.rt, "tarpc_inproc", &f.tarpc_inproc);
    sequential(&mut group, &f.rt, "tarpc_unix", &f.tarpc_unix);
    group.finish();
}

fn small_c64(c: &mut Criterion) {
    let f = Fixtures::new();
    let mut group = c.benchmark_group("small_c64");
    configure(&mut group);
    group.throughput(Throughput::Elements(CALLERS));
    concurrent(&mut group, &f.rt, "ours_inproc", &f.ours_inproc);
    concurrent(&mut group, &f.rt, "ours_unix_binary", &f.ours_unix_binary);
    concurrent(&mut group, &f.rt, "ours_unix_json", &f.ours_unix_json);
    concurrent(
        &mut group,
        &f.rt,
        "ours_inproc_nodeadline",
        &f.ours_inproc_nodeadline,
    );
    concurrent(
        &mut group,
        &f.rt,
        "ours_unix_binary_nodeadline",
        &f.ours_unix_binary_nodeadline,
    );
    concurrent(
        &mut group,
        &f.rt,
        "ours_handle_inproc",
        &f.ours_handle_inproc,
    );
    concurrent(
        &mut group,
        &f.rt,
        "ours_handle_unix_binary",
        &f.ours_handle_unix_binary,
    );
    concurrent(&mut group, &f.rt, "raw_mpsc", &f.raw_mpsc);
    // One stream cannot be driven by 64 callers without a multiplexer.
    concurrent(&mut group, &f.rt, "raw_unix", &f.raw_unix_mux);
    concurrent(&mut group, &f.rt, "tarpc_inproc", &f.tarpc_inproc);
    concurrent(&mut group, &f.rt, "tarpc_unix", &f.tarpc_unix);
    group.finish();
}

fn bytes_1mib(c: &mut Criterion) {
    let f = Fixtures::new();
    let data = blob();
    let mut group = c.benchmark_group("bytes_1mib");
    configure(&mut group);
    group
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Bytes(BLOB_LEN as u64));
    large(&mut group, &f.rt, "ours_inproc", &f.ours_inproc, &data);
    large(
        &mut group,
        &f.rt,
        "ours_unix_binary",
        &f.ours_unix_binary,
        &data,
    );
    large(
        &mut group,
        &f.rt,
        "ours_unix_json",
        &f.ours_unix_json,
        &data,
    );
    large(&mut group, &f.rt, "raw_mpsc", &f.raw_mpsc, &data);
    large(&mut group, &f.rt, "raw_unix", &f.raw_unix, &data);
    large(&mut group, &f.rt, "tarpc_inproc", &f.tarpc_inproc, &data);
    large(&mut group, &f.rt, "tarpc_unix", &f.tarpc_unix, &data);
    group.finish();
}

/// 8 MiB, twice a frame: the message travels in chunks (the raw floor sends one frame).
fn bytes_8mib(c: &mut Criterion) {
    let f = Fixtures::new();
    let data: Bytes = (0..8 * BLOB_LEN)
        .map(|i| (i.wrapping_mul(31) % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let mut group = c.benchmark_group("bytes_8mib");
    configure(&mut group);
    group
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Bytes(data.len() as u64));
    large(
        &mut group,
        &f.rt,
        "ours_unix_binary",
        &f.ours_unix_binary,
        &data,
    );
    large(&mut group, &f.rt, "raw_unix", &f.raw_unix, &data);
    group.finish();
}

criterion_group!(benches, small_seq, small_c64, bytes_1mib, bytes_8mib);
criterion_main!(benches);
