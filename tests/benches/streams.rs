//! Streams from main to a renderer next to the raw floor and a peer library, in one run.
//!
//! Two groups read whole streams (one iteration is one stream), and each benchmark's name says
//! who carries it:
//!
//! - `stream_small`: 1,000,000 items of 16 bytes (a `String`), read one by one.
//! - `stream_1mib`: 64 chunks of 1 MiB (bytes).
//!
//! A third, `port_round_trip`, measures what relaying through main costs (the choice
//! ARCHITECTURE.md records for two renderers talking over a port pair): a 16-byte message sent
//! on a port and answered on it, one at a time.
//!
//! - `ours_one_hop`: a renderer and main's echo task, over one Unix socket (binary codec).
//! - `ours_relayed`: two renderers, each on its own Unix socket, holding the two ends of a pair
//!   main made: the message crosses main's relay both ways (four socket legs per round trip).
//! - `raw_unix`: a 16-byte frame echoed by the raw server (two socket legs).
//!
//! Who:
//!
//! - `ours_unix_binary`, `ours_unix_json`: a contract method returning `Stream<T>`, served by
//!   `Main::listen_unix` and read through `Renderer::connect_unix` with [`Codec::Binary`]
//!   (MessagePack) or [`Codec::Json`]; the port's credit window is the default (16 messages).
//! - `ours_inproc` (info): the same stream through `Main::connect_in_process`.
//! - `raw_unix`: the socket floor: the request, then every item as a frame with a 12-byte header
//!   (length, stream id), written through a 64 KiB buffer and read by the client. No flow
//!   control: the writer runs as far ahead as the socket's buffers let it.
//! - `raw_mpsc` (info): the in-process floor, a Tokio mpsc queue of 16 items.
//! - `remoc_unix`: remoc's `rch::mpsc` channel (its default buffer of 16 items and MessagePack,
//!   the codec of `ours_unix_binary`), over `remoc::Connect::io` on a Unix socket; each iteration
//!   sends a fresh sender to the server, which fills it.
//!
//! `scripts/bench.sh` runs this after `ipc` and prints the ratios. Under `cargo test` criterion
//! runs every benchmark once (a quick check that all of them work).

mod support;

use std::future::Future;
use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use futures_util::StreamExt;
use ipc_runtime::{
    Caller, Codec, Main, Port, Renderer, RendererOptions, Stream, UnixListenerHandle,
};
use serde::{Deserialize, Serialize};
use support::{SocketDir, read_frame, write_frame};
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{UnixListener, UnixStream};
use tokio::runtime::Runtime;
use tokio::sync::{Mutex, mpsc};

/// A small item: 16 bytes.
const SMALL: &str = "0123456789abcdef";
/// Items per iteration of `stream_small`.
const SMALL_ITEMS: u64 = 1_000_000;
/// Under `cargo test` (no `--bench` argument) every benchmark runs once as a check that it
/// works; a stream of this many items is enough for that in a debug build.
const CHECK_ITEMS: u64 = 1_000;
/// A chunk of `stream_1mib`.
const CHUNK_LEN: usize = 1 << 20;
/// Chunks per iteration of `stream_1mib`.
const CHUNKS: u64 = 64;

/// The two kinds of stream, as every contender is asked for them.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
enum Kind {
    Small,
    Chunks,
}

impl Kind {
    fn count(self) -> u64 {
        static BENCHING: LazyLock<bool> =
            LazyLock::new(|| std::env::args().any(|a| a == "--bench"));
        match (self, *BENCHING) {
            (Kind::Small, true) => SMALL_ITEMS,
            (Kind::Small, false) => CHECK_ITEMS,
            (Kind::Chunks, true) => CHUNKS,
            (Kind::Chunks, false) => 2,
        }
    }

    fn count32(self) -> u32 {
        u32::try_from(self.count()).expect("counts fit in 32 bits")
    }

    /// Payload bytes of one whole stream.
    fn bytes(self) -> u64 {
        self.count()
            * match self {
                Kind::Small => SMALL.len() as u64,
                Kind::Chunks => CHUNK_LEN as u64,
            }
    }
}

/// Something that streams `kind`'s items from "the other side" and returns how many bytes of
/// payload it read.
trait Source: Clone + Send + Sync + 'static {
    fn read(&self, kind: Kind) -> impl Future<Output = u64> + Send;
}

fn chunk() -> Bytes {
    (0..CHUNK_LEN)
        .map(|i| (i.wrapping_mul(31) % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

// --- This project ----------------------------------------------------------------------------

/// The benchmark contract.
#[ipc_runtime::channels(namespace = "streams")]
pub trait Streams {
    /// `count` copies of a 16-byte string.
    async fn items(&self, count: u32) -> Stream<String>;
    /// `count` chunks of 1 MiB.
    async fn chunks(&self, count: u32) -> Stream<ipc_runtime::Bytes>;
    /// A port on which main answers every message with itself.
    async fn echo_port(&self) -> Port<String, String>;
    /// Two callers meet: each gets one end of a pair main made.
    async fn meet(&self) -> Port<String, String>;
}

struct StreamsBackend {
    chunk: Bytes,
    /// The end kept for the next caller of `meet`.
    waiting: std::sync::Mutex<Option<Port<String, String>>>,
}

impl StreamsHandler for StreamsBackend {
    async fn items(&self, _caller: &Caller, count: u32) -> Stream<String> {
        Stream::from_iter((0..count).map(|_| SMALL.to_owned()))
    }

    async fn chunks(&self, _caller: &Caller, count: u32) -> Stream<ipc_runtime::Bytes> {
        let chunk = self.chunk.clone();
        Stream::from_iter((0..count).map(move |_| ipc_runtime::Bytes::from(chunk.clone())))
    }

    async fn echo_port(&self, _caller: &Caller) -> Port<String, String> {
        let (mine, theirs) = Port::pair();
        tokio::spawn(async move {
            while let Some(Ok(message)) = mine.recv().await {
                if mine.send(message).await.is_err() {
                    return;
                }
            }
        });
        theirs
    }

    async fn meet(&self, _caller: &Caller) -> Port<String, String> {
        let mut waiting = self.waiting.lock().unwrap();
        match waiting.take() {
            Some(end) => end,
            None => {
                let (first, second) = Port::pair();
                *waiting = Some(second);
                first
            }
        }
    }
}

/// Sends a message on `port` and waits for the answer.
async fn round_trip(port: &Port<String, String>) {
    port.send(SMALL.to_owned()).await.expect("send on the port");
    let answer = port
        .recv()
        .await
        .expect("the port closed")
        .expect("a bad answer");
    assert_eq!(answer.len(), SMALL.len());
}

#[derive(Clone)]
struct Ours(StreamsClient);

impl Source for Ours {
    async fn read(&self, kind: Kind) -> u64 {
        let mut read = 0;
        match kind {
            Kind::Small => {
                let mut items = self.0.items(kind.count32()).await.expect("items failed");
                while let Some(item) = items.next().await {
                    read += item.expect("an item failed").len() as u64;
                }
            }
            Kind::Chunks => {
                let mut chunks = self.0.chunks(kind.count32()).await.expect("chunks failed");
                while let Some(chunk) = chunks.next().await {
                    read += chunk.expect("a chunk failed").len() as u64;
                }
            }
        }
        read
    }
}

// --- The in-process floor: a bounded mpsc queue ----------------------------------------------

#[derive(Clone)]
struct RawMpsc(Bytes);

impl Source for RawMpsc {
    async fn read(&self, kind: Kind) -> u64 {
        let (sender, mut receiver) = mpsc::channel::<Bytes>(16);
        let item = match kind {
            Kind::Small => Bytes::from_static(SMALL.as_bytes()),
            Kind::Chunks => self.0.clone(),
        };
        tokio::spawn(async move {
            for _ in 0..kind.count() {
                if sender.send(item.clone()).await.is_err() {
                    return;
                }
            }
        });
        let mut read = 0;
        while let Some(item) = receiver.recv().await {
            read += item.len() as u64;
        }
        read
    }
}

// --- The socket floor: length-prefixed frames on a Unix socket -------------------------------

/// Answers each request frame by its id: 0 with the small items, 1 with the chunks (flushed at
/// the end), 2 with the frame itself.
async fn raw_stream_server(listener: UnixListener, chunk: Bytes) {
    while let Ok((stream, _)) = listener.accept().await {
        let chunk = chunk.clone();
        tokio::spawn(async move {
            let (read, write) = stream.into_split();
            let mut read = BufReader::with_capacity(64 * 1024, read);
            let mut write = BufWriter::with_capacity(64 * 1024, write);
            while let Ok((kind, body)) = read_frame(&mut read).await {
                if kind == 2 {
                    if write_frame(&mut write, 0, &body).await.is_err()
                        || write.flush().await.is_err()
                    {
                        return;
                    }
                    continue;
                }
                let (item, count) = match kind {
                    0 => (SMALL.as_bytes(), Kind::Small.count()),
                    _ => (&chunk[..], Kind::Chunks.count()),
                };
                for _ in 0..count {
                    if write_frame(&mut write, 0, item).await.is_err() {
                        return;
                    }
                }
                if write.flush().await.is_err() {
                    return;
                }
            }
        });
    }
}

type RawStream = (
    BufReader<tokio::net::unix::OwnedReadHalf>,
    BufWriter<tokio::net::unix::OwnedWriteHalf>,
);

#[derive(Clone)]
struct RawUnix(Arc<Mutex<RawStream>>);

impl RawUnix {
    async fn connect(path: &Path) -> Self {
        let (read, write) = UnixStream::connect(path)
            .await
            .expect("connect to the raw stream server")
            .into_split();
        RawUnix(Arc::new(Mutex::new((
            BufReader::with_capacity(64 * 1024, read),
            BufWriter::with_capacity(64 * 1024, write),
        ))))
    }
}

impl RawUnix {
    async fn round_trip(&self) {
        let mut stream = self.0.lock().await;
        let (read, write) = &mut *stream;
        write_frame(write, 2, SMALL.as_bytes()).await.unwrap();
        write.flush().await.unwrap();
        let (_, body) = read_frame(read).await.expect("raw server gone");
        assert_eq!(body.len(), SMALL.len());
    }
}

impl Source for RawUnix {
    async fn read(&self, kind: Kind) -> u64 {
        let mut stream = self.0.lock().await;
        let (read, write) = &mut *stream;
        let id = match kind {
            Kind::Small => 0,
            Kind::Chunks => 1,
        };
        write_frame(write, id, &[]).await.unwrap();
        write.flush().await.unwrap();
        let mut total = 0;
        for _ in 0..kind.count() {
            total += read_frame(read).await.expect("raw server gone").1.len() as u64;
        }
        total
    }
}

// --- The peer: remoc's rch::mpsc ---------------------------------------------------------------

type RemocCodec = remoc::codec::MessagePack;

/// What the client asks the remoc server for: fill this sender.
#[derive(Serialize, Deserialize)]
enum RemocRequest {
    Small(remoc::rch::mpsc::Sender<String, RemocCodec>),
    Chunks(remoc::rch::mpsc::Sender<ipc_runtime::Bytes, RemocCodec>),
}

async fn remoc_server(listener: UnixListener, chunk: Bytes) {
    while let Ok((stream, _)) = listener.accept().await {
        let chunk = chunk.clone();
        tokio::spawn(async move {
            let (read, write) = stream.into_split();
            let (connection, _tx, mut requests): (
                _,
                remoc::rch::base::Sender<(), RemocCodec>,
                remoc::rch::base::Receiver<RemocRequest, RemocCodec>,
            ) = remoc::Connect::io(remoc::Cfg::default(), read, write)
                .await
                .expect("remoc server connect");
            tokio::spawn(connection);
            while let Ok(Some(request)) = requests.recv().await {
                let chunk = chunk.clone();
                tokio::spawn(async move {
                    match request {
                        RemocRequest::Small(sender) => {
                            for _ in 0..Kind::Small.count() {
                                if sender.send(SMALL.to_owned()).await.is_err() {
                                    return;
                                }
                            }
                        }
                        RemocRequest::Chunks(sender) => {
                            for _ in 0..Kind::Chunks.count() {
                                let item = ipc_runtime::Bytes::from(chunk.clone());
                                if sender.send(item).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
    }
}

#[derive(Clone)]
struct Remoc(Arc<Mutex<remoc::rch::base::Sender<RemocRequest, RemocCodec>>>);

impl Remoc {
    async fn connect(path: &Path) -> Self {
        let (read, write) = UnixStream::connect(path)
            .await
            .expect("connect to the remoc server")
            .into_split();
        let (connection, requests, _rx): (
            _,
            remoc::rch::base::Sender<RemocRequest, RemocCodec>,
            remoc::rch::base::Receiver<(), RemocCodec>,
        ) = remoc::Connect::io(remoc::Cfg::default(), read, write)
            .await
            .expect("remoc client connect");
        tokio::spawn(connection);
        Remoc(Arc::new(Mutex::new(requests)))
    }
}

impl Source for Remoc {
    async fn read(&self, kind: Kind) -> u64 {
        let mut read = 0;
        match kind {
            Kind::Small => {
                let (sender, mut receiver) = remoc::rch::mpsc::channel::<String, RemocCodec>();
                let request = RemocRequest::Small(sender);
                self.0.lock().await.send(request).await.expect("remoc send");
                while let Some(item) = receiver.recv().await.expect("remoc item") {
                    read += item.len() as u64;
                }
            }
            Kind::Chunks => {
                let (sender, mut receiver) =
                    remoc::rch::mpsc::channel::<ipc_runtime::Bytes, RemocCodec>();
                let request = RemocRequest::Chunks(sender);
                self.0.lock().await.send(request).await.expect("remoc send");
                while let Some(chunk) = receiver.recv().await.expect("remoc chunk") {
                    read += chunk.len() as u64;
                }
            }
        }
        read
    }
}

// --- Fixtures --------------------------------------------------------------------------------

/// Fields drop in order: the clients and servers first, the runtime last.
struct Fixtures {
    ours_inproc: Ours,
    ours_unix_binary: Ours,
    ours_unix_json: Ours,
    raw_mpsc: RawMpsc,
    raw_unix: RawUnix,
    remoc_unix: Remoc,
    one_hop: Arc<Port<String, String>>,
    relayed: Arc<Port<String, String>>,
    _peer: Renderer,
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
        let dir = SocketDir::new("streams");
        let chunk = chunk();
        let (main, listener, inproc, binary, json, ports) = rt.block_on(async {
            let main = Main::new();
            let backend = StreamsBackend {
                chunk: chunk.clone(),
                waiting: std::sync::Mutex::new(None),
            };
            let _registration = Streams::handle(&main, backend).expect("register the handler");
            let listener = main
                .listen_unix(dir.path("ours.sock"))
                .expect("listen on the socket");
            let options = || RendererOptions::new("bench");
            let inproc = main.connect_in_process(options());
            let unix = |codec| Renderer::connect_unix(listener.path(), options().codec(codec));
            let binary = unix(Codec::Binary).await.expect("connect (binary)");
            let json = unix(Codec::Json).await.expect("connect (json)");
            let peer = unix(Codec::Binary).await.expect("connect (peer)");
            let [inproc, binary, json] =
                [inproc, binary, json].map(|renderer| Ours(StreamsClient::new(renderer)));
            let one_hop = binary.0.echo_port().await.expect("echo_port");
            // The peer renderer answers on its end of the pair, through main's relay.
            let peer_client = StreamsClient::new(peer.clone());
            let (relayed, echoing) = tokio::join!(binary.0.meet(), peer_client.meet());
            let echoing = echoing.expect("meet (peer)");
            tokio::spawn(async move {
                while let Some(Ok(message)) = echoing.recv().await {
                    if echoing.send(message).await.is_err() {
                        return;
                    }
                }
            });
            let ports = (one_hop, relayed.expect("meet"), peer);
            (main, listener, inproc, binary, json, ports)
        });
        let (raw_unix, remoc_unix) = rt.block_on(async {
            let raw_path = dir.path("raw.sock");
            let raw = UnixListener::bind(&raw_path).expect("bind the raw socket");
            tokio::spawn(raw_stream_server(raw, chunk.clone()));
            let remoc_path = dir.path("remoc.sock");
            let remoc = UnixListener::bind(&remoc_path).expect("bind the remoc socket");
            tokio::spawn(remoc_server(remoc, chunk.clone()));
            (
                RawUnix::connect(&raw_path).await,
                Remoc::connect(&remoc_path).await,
            )
        });
        Fixtures {
            ours_inproc: inproc,
            ours_unix_binary: binary,
            ours_unix_json: json,
            raw_mpsc: RawMpsc(chunk),
            raw_unix,
            remoc_unix,
            one_hop: Arc::new(ports.0),
            relayed: Arc::new(ports.1),
            _peer: ports.2,
            _listener: listener,
            _main: main,
            _dir: dir,
            rt,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/// Reads `iters` whole streams on a runtime task and returns the elapsed time.
fn streamed<S: Source>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    source: &S,
    kind: Kind,
) {
    let expected = kind.bytes();
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let source = source.clone();
            async move {
                tokio::spawn(async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let read = source.read(black_box(kind)).await;
                        assert_eq!(read, expected, "a stream came short");
                    }
                    start.elapsed()
                })
                .await
                .expect("reader task panicked")
            }
        });
    });
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
}

fn stream_group(c: &mut Criterion, name: &str, kind: Kind) {
    let f = Fixtures::new();
    let mut group = c.benchmark_group(name);
    configure(&mut group);
    group.throughput(match kind {
        Kind::Small => Throughput::Elements(kind.count()),
        Kind::Chunks => Throughput::Bytes(kind.bytes()),
    });
    streamed(
        &mut group,
        &f.rt,
        "ours_unix_binary",
        &f.ours_unix_binary,
        kind,
    );
    streamed(&mut group, &f.rt, "ours_unix_json", &f.ours_unix_json, kind);
    streamed(&mut group, &f.rt, "ours_inproc", &f.ours_inproc, kind);
    streamed(&mut group, &f.rt, "raw_unix", &f.raw_unix, kind);
    streamed(&mut group, &f.rt, "raw_mpsc", &f.raw_mpsc, kind);
    streamed(&mut group, &f.rt, "remoc_unix", &f.remoc_unix, kind);
    group.finish();
}

fn stream_small(c: &mut Criterion) {
    stream_group(c, "stream_small", Kind::Small);
}

fn stream_1mib(c: &mut Criterion) {
    stream_group(c, "stream_1mib", Kind::Chunks);
}

/// Times `iters` round trips of `round` on a runtime task.
fn round_trips<F, Fut>(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, name: &str, round: F)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let round = round.clone();
            async move {
                tokio::spawn(async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        round().await;
                    }
                    start.elapsed()
                })
                .await
                .expect("round trip task panicked")
            }
        });
    });
}

fn port_round_trip(c: &mut Criterion) {
    let f = Fixtures::new();
    let mut group = c.benchmark_group("port_round_trip");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(1));
    let one_hop = f.one_hop.clone();
    round_trips(&mut group, &f.rt, "ours_one_hop", move || {
        let port = one_hop.clone();
        async move { round_trip(&port).await }
    });
    let relayed = f.relayed.clone();
    round_trips(&mut group, &f.rt, "ours_relayed", move || {
        let port = relayed.clone();
        async move { round_trip(&port).await }
    });
    let raw = f.raw_unix.clone();
    round_trips(&mut group, &f.rt, "raw_unix", move || {
        let raw = raw.clone();
        async move { raw.round_trip().await }
    });
    group.finish();
}

criterion_group!(benches, stream_small, stream_1mib, port_round_trip);
criterion_main!(benches);
