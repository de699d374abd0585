//! Delivery guarantees with main in this process: an event emitted right after a connect
//! arrives (on every transport, enough tries to catch a 1% race), a renderer that does not read
//! learns how many events it missed (exact counts, in their place) or is disconnected when the
//! application says so, closing always closes (even a renderer whose sends are stuck), renderers
//! coming and going can be watched, one-shot and removable subscriptions, a renderer on socketpair
//! stdio, a stdio renderer that prints, and disconnecting one window behind a bridge.

mod common;

use std::time::Duration;

use common::{Probe, ProbeBackend, eventually, within};
use futures_util::StreamExt;
use ipc_runtime::{
    ByteStream, Codec, EventChannel, EventError, EventOverflow, IpcError, Main, Renderer,
    RendererEvent, RendererOptions, SendChannel, Target, WebSocketOptions,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TICK: EventChannel<(u32,)> = EventChannel::new("delivery:tick");
const OTHER: EventChannel<(u32,)> = EventChannel::new("delivery:other");
const STUCK: SendChannel<(u32,)> = SendChannel::new("delivery:stuck");

const PEER: &str = env!("CARGO_BIN_EXE_ipc-test-peer");
const ORIGIN: &str = "http://127.0.0.1:9";

fn socket_path(name: &str) -> std::path::PathBuf {
    common::socket_path(&format!("delivery-{name}"))
}

/// How a test renderer reaches a main in this process.
#[derive(Clone, Copy, Debug)]
enum Via {
    InProcess,
    Unix(Codec),
    WebSocket(Codec),
    /// A byte stream pair (what stdio is, without a second process).
    Bytes(Codec),
}

/// Connects renderers to `main` over one transport, again and again.
struct Connector {
    main: Main,
    via: Via,
    _unix: Option<ipc_runtime::UnixListenerHandle>,
    unix_path: Option<std::path::PathBuf>,
    ws: Option<ipc_runtime::WebSocketListener>,
}

impl Connector {
    async fn new(main: &Main, via: Via, name: &str) -> Connector {
        let mut connector = Connector {
            main: main.clone(),
            via,
            _unix: None,
            unix_path: None,
            ws: None,
        };
        match via {
            Via::Unix(_) => {
                let listener = main.listen_unix(socket_path(name)).unwrap();
                connector.unix_path = Some(listener.path().to_path_buf());
                connector._unix = Some(listener);
            }
            Via::WebSocket(_) => {
                let options = WebSocketOptions::new().allow_origin(ORIGIN);
                connector.ws = Some(main.listen_websocket(options).await.unwrap());
            }
            Via::InProcess | Via::Bytes(_) => {}
        }
        connector
    }

    async fn connect(&self, label: &str) -> Renderer {
        let options = RendererOptions::new(label);
        match self.via {
            Via::InProcess => self.main.connect_in_process(options),
            Via::Unix(codec) => {
                let path = self.unix_path.as_ref().unwrap();
                within(
                    "connect",
                    Renderer::connect_unix(path, options.codec(codec)),
                )
                .await
                .unwrap()
            }
            Via::WebSocket(codec) => {
                let url = self.ws.as_ref().unwrap().url();
                let connect = Renderer::connect_websocket(&url, Some(ORIGIN), options.codec(codec));
                within("connect", connect).await.unwrap()
            }
            Via::Bytes(codec) => {
                let (ours, theirs) = tokio::io::duplex(64 * 1024);
                let (their_read, their_write) = tokio::io::split(theirs);
                let main = self.main.clone();
                tokio::spawn(async move {
                    let _ = main.accept(ByteStream::new(their_read, their_write)).await;
                });
                let (read, write) = tokio::io::split(ours);
                let connect = Renderer::connect(ByteStream::new(read, write), options.codec(codec));
                within("connect", connect).await.unwrap()
            }
        }
    }
}

/// An event emitted to a renderer the moment its connect resolved reaches it: main registers a
/// connection before it says hello. Repeated to catch a race that loses 1% of tries.
async fn event_right_after_connect_arrives(via: Via, tries: u32) {
    let main = Main::new();
    let connector = Connector::new(&main, via, &format!("connect-emit-{via:?}")).await;
    for i in 0..tries {
        let renderer = connector.connect("fresh").await;
        let mut ticks = renderer.subscribe(TICK);
        assert_eq!(
            main.emit(TICK, renderer.id(), (i,)),
            1,
            "try {i}: main knows the renderer once its connect resolved"
        );
        assert_eq!(
            within("the event", ticks.next()).await,
            Some(Ok((i,))),
            "try {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_in_process() {
    event_right_after_connect_arrives(Via::InProcess, 3000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_over_a_unix_socket_json() {
    event_right_after_connect_arrives(Via::Unix(Codec::Json), 3000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_over_a_unix_socket_binary() {
    event_right_after_connect_arrives(Via::Unix(Codec::Binary), 3000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_over_a_unix_socket_msgpack() {
    event_right_after_connect_arrives(Via::Unix(Codec::MessagePack), 3000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_over_websocket_msgpack() {
    event_right_after_connect_arrives(Via::WebSocket(Codec::MessagePack), 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_over_websocket_json() {
    event_right_after_connect_arrives(Via::WebSocket(Codec::Json), 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_over_websocket_binary() {
    event_right_after_connect_arrives(Via::WebSocket(Codec::Binary), 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_over_a_byte_stream_json() {
    event_right_after_connect_arrives(Via::Bytes(Codec::Json), 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_right_after_connect_arrives_over_a_byte_stream_binary() {
    event_right_after_connect_arrives(Via::Bytes(Codec::Binary), 1000).await;
}

// ---------------------------------------------------------------------------------------------
// A renderer that does not read

/// A raw renderer that completes the handshake, then reads only when told: over a Unix socket or
/// a byte stream pair (stdio's framing; length-prefixed frames) or a WebSocket (a message per
/// frame).
struct RawRenderer {
    link: RawLink,
    codec: Codec,
}

enum RawLink {
    Unix(tokio::net::UnixStream),
    Bytes(tokio::io::DuplexStream),
    WebSocket(
        Box<
            tokio_tungstenite::WebSocketStream<
                tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
            >,
        >,
    ),
}

impl RawRenderer {
    fn hello(codec: Codec) -> Vec<u8> {
        let hello = json!({
            "t": "hello", "protocol": 1, "role": "renderer", "codec": codec.name(),
            "contracts": {}, "label": "raw", "max_frame": 4_194_304,
        });
        serde_json::to_vec(&hello).unwrap()
    }

    async fn connect(path: &std::path::Path, codec: Codec) -> (RawRenderer, u64) {
        let mut stream = tokio::net::UnixStream::connect(path).await.unwrap();
        stream
            .write_all(&common::raw::framed(&Self::hello(codec)))
            .await
            .unwrap();
        Self::answered(RawRenderer {
            link: RawLink::Unix(stream),
            codec,
        })
        .await
    }

    /// Over a byte stream pair whose other end main accepts (what stdio is, without a second
    /// process), with room for 64 KiB in flight.
    async fn connect_bytes(main: &Main, codec: Codec) -> (RawRenderer, u64) {
        let (mut ours, theirs) = tokio::io::duplex(64 * 1024);
        let (their_read, their_write) = tokio::io::split(theirs);
        let accepting = main.clone();
        tokio::spawn(async move {
            let _ = accepting
                .accept(ByteStream::new(their_read, their_write))
                .await;
        });
        ours.write_all(&common::raw::framed(&Self::hello(codec)))
            .await
            .unwrap();
        Self::answered(RawRenderer {
            link: RawLink::Bytes(ours),
            codec,
        })
        .await
    }

    async fn connect_websocket(url: &str, codec: Codec) -> (RawRenderer, u64) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", ORIGIN.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let hello = String::from_utf8(Self::hello(codec)).unwrap();
        ws.send(tokio_tungstenite::tungstenite::Message::text(hello))
            .await
            .unwrap();
        Self::answered(RawRenderer {
            link: RawLink::WebSocket(Box::new(ws)),
            codec,
        })
        .await
    }

    /// Reads main's hello; returns the renderer id it gave.
    async fn answered(mut raw: RawRenderer) -> (RawRenderer, u64) {
        let answer: Value = serde_json::from_slice(&raw.frame().await.unwrap()).unwrap();
        assert_eq!(answer["t"], "hello", "{answer}");
        let id = answer["renderer"].as_u64().unwrap();
        (raw, id)
    }

    async fn frame(&mut self) -> Option<Vec<u8>> {
        match &mut self.link {
            RawLink::Unix(stream) => length_prefixed(stream).await,
            RawLink::Bytes(stream) => length_prefixed(stream).await,
            RawLink::WebSocket(ws) => loop {
                use tokio_tungstenite::tungstenite::Message;
                match within("a frame", ws.next()).await? {
                    Ok(Message::Text(text)) => return Some(text.as_bytes().to_vec()),
                    Ok(Message::Binary(bytes)) => return Some(bytes.to_vec()),
                    Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                    Ok(Message::Close(_)) | Err(_) => return None,
                }
            },
        }
    }

    /// The next event's value or lag notice: `Ok((channel, value))` or `Err((channel, missed))`.
    async fn next(&mut self) -> Result<(String, u32), (String, u64)> {
        let body = self.frame().await.expect("a frame");
        match self.codec {
            Codec::Json => {
                let frame: Value = serde_json::from_slice(&body).unwrap();
                let channel = frame["ch"].as_str().unwrap().to_string();
                match frame["t"].as_str() {
                    Some("event") => Ok((channel, frame["args"][0].as_u64().unwrap() as u32)),
                    Some("lag") => Err((channel, frame["missed"].as_u64().unwrap())),
                    _ => panic!("unexpected frame {frame}"),
                }
            }
            _ => {
                // A tag, a postcard header (a string, then for a lag a varint), a MessagePack
                // payload `[n]`.
                let (tag, rest) = body.split_first().unwrap();
                let (len, rest) = varint(rest);
                let (channel, rest) = rest.split_at(len as usize);
                let channel = String::from_utf8(channel.to_vec()).unwrap();
                match tag {
                    7 => Ok((channel, msgpack_single_u32(rest))),
                    10 => Err((channel, varint(rest).0)),
                    other => panic!("unexpected frame tag {other}"),
                }
            }
        }
    }
}

/// One length-prefixed frame's body (`None` once the stream ends).
async fn length_prefixed(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<Vec<u8>> {
    let mut prefix = [0u8; 4];
    within("a frame", stream.read_exact(&mut prefix))
        .await
        .ok()?;
    let mut body = vec![0; u32::from_be_bytes(prefix) as usize];
    within("a frame body", stream.read_exact(&mut body))
        .await
        .ok()?;
    Some(body)
}

fn varint(bytes: &[u8]) -> (u64, &[u8]) {
    let mut n = 0u64;
    for (i, byte) in bytes.iter().enumerate() {
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return (n, &bytes[i + 1..]);
        }
    }
    panic!("unterminated varint")
}

fn msgpack_single_u32(payload: &[u8]) -> u32 {
    assert_eq!(payload[0], 0x91, "a one-element array");
    match payload[1] {
        n @ 0..=0x7f => u32::from(n),
        0xcc => u32::from(payload[2]),
        0xcd => u32::from(u16::from_be_bytes([payload[2], payload[3]])),
        0xce => u32::from_be_bytes([payload[2], payload[3], payload[4], payload[5]]),
        other => panic!("unexpected MessagePack marker {other:#x}"),
    }
}

/// Which link the raw renderer of the lag tests reads.
#[derive(Clone, Copy)]
enum Link {
    Unix,
    WebSocket,
    Bytes,
}

/// A renderer that stops reading loses events, never silently: every event main emitted is
/// either delivered or counted in a lag notice that sits exactly where the missed ones would
/// have been, per channel.
async fn a_renderer_that_does_not_read_is_told_what_it_missed(codec: Codec, link: Link) {
    let main = Main::builder().queue_capacity(64).build();
    let listener = main
        .listen_unix(socket_path(&format!("no-read-{}", codec.name())))
        .unwrap();
    let ws = main
        .listen_websocket(WebSocketOptions::new().allow_origin(ORIGIN))
        .await
        .unwrap();
    let (mut raw, id) = match link {
        Link::WebSocket => RawRenderer::connect_websocket(&ws.url(), codec).await,
        Link::Unix => RawRenderer::connect(listener.path(), codec).await,
        Link::Bytes => RawRenderer::connect_bytes(&main, codec).await,
    };
    let id = main
        .renderers()
        .into_iter()
        .find(|c| c.renderer().get() == id)
        .unwrap();
    const EVENTS: u32 = 20_000;
    let mut delivered_by_main = 0;
    for n in 0..EVENTS {
        let channel = if n % 3 == 0 { OTHER } else { TICK };
        delivered_by_main += main.emit(channel, &id, (n,));
        if n % 500 == 0 {
            // Let the connection task fill the socket before the mailbox fills.
            tokio::task::yield_now().await;
        }
    }
    assert!(
        delivered_by_main < EVENTS as usize,
        "the mailbox overflowed (the renderer does not read)"
    );
    let mut expected = [0u32, 0u32];
    let mut delivered = 0u64;
    let mut missed = 0u64;
    let mut last_missed = [0u64, 0u64];
    let of = |channel: &str| usize::from(channel == TICK.name());
    while delivered + missed < u64::from(EVENTS) {
        match raw.next().await {
            Ok((channel, value)) => {
                let c = of(&channel);
                // The values a lag notice counted are exactly the ones skipped here.
                let skipped = (expected[c]..value)
                    .filter(|n| {
                        of(if n % 3 == 0 {
                            OTHER.name()
                        } else {
                            TICK.name()
                        }) == c
                    })
                    .count() as u64;
                assert_eq!(skipped, last_missed[c], "{channel}: gap before {value}");
                last_missed[c] = 0;
                expected[c] = value + 1;
                delivered += 1;
            }
            Err((channel, count)) => {
                assert!(count > 0);
                last_missed[of(&channel)] += count;
                missed += count;
            }
        }
    }
    assert_eq!(delivered + missed, u64::from(EVENTS));
    assert_eq!(
        delivered, delivered_by_main as u64,
        "what emit said it queued arrived"
    );
    assert!(missed > 0);
    // The connection lives on.
    assert_eq!(main.emit(TICK, &id, (EVENTS,)), 1);
    assert_eq!(raw.next().await, Ok((TICK.name().to_string(), EVENTS)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_that_does_not_read_is_told_what_it_missed_json() {
    a_renderer_that_does_not_read_is_told_what_it_missed(Codec::Json, Link::Unix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_that_does_not_read_is_told_what_it_missed_binary() {
    a_renderer_that_does_not_read_is_told_what_it_missed(Codec::Binary, Link::Unix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_page_that_does_not_read_is_told_what_it_missed_json() {
    a_renderer_that_does_not_read_is_told_what_it_missed(Codec::Json, Link::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_page_that_does_not_read_is_told_what_it_missed_binary() {
    a_renderer_that_does_not_read_is_told_what_it_missed(Codec::Binary, Link::WebSocket).await;
}

/// Stdio's framing (a byte stream pair, what a spawned renderer's stdin and stdout carry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_renderer_that_does_not_read_is_told_what_it_missed_json() {
    a_renderer_that_does_not_read_is_told_what_it_missed(Codec::Json, Link::Bytes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_renderer_that_does_not_read_is_told_what_it_missed_binary() {
    a_renderer_that_does_not_read_is_told_what_it_missed(Codec::Binary, Link::Bytes).await;
}

/// In process, with the reader unable to run while main emits: the subscription yields what fit
/// in main's queue, then the lag notice; with the disconnect policy the renderer is closed with
/// the reason instead.
#[tokio::test(flavor = "current_thread")]
async fn overflow_policies_notify_or_disconnect() {
    let main = Main::builder().queue_capacity(8).build();
    let notified = main.connect_in_process(RendererOptions::new("notified"));
    let disconnected = main.connect_in_process(RendererOptions::new("disconnected"));
    assert!(main.set_event_overflow(disconnected.id(), EventOverflow::Disconnect));
    let mut ticks = notified.subscribe(TICK);
    for n in 0..20 {
        main.emit(TICK, Target::All, (n,));
    }
    for n in 0..8 {
        assert_eq!(within("a tick", ticks.next()).await, Some(Ok((n,))));
    }
    assert_eq!(
        within("the lag notice", ticks.next()).await,
        Some(Err(EventError::Lagged { missed: 12 }))
    );
    let reason = within("the slow renderer to be closed", disconnected.closed()).await;
    assert!(reason.contains("did not keep up with events"), "{reason}");
    assert!(!notified.is_closed());
}

// ---------------------------------------------------------------------------------------------
// Closing always closes

/// A renderer whose sends are stuck (a listener that never finishes, more sends than may run)
/// is still closed at once by `disconnect` and by `shutdown`; its running calls are cancelled.
async fn closing_a_renderer_with_stuck_sends(via: Via, shutdown: bool) {
    let main = Main::builder().max_sends_running(16).build();
    let (backend, mut probe) = ProbeBackend::new();
    let _probe = Probe::handle(&main, backend).unwrap();
    main.on(STUCK, |_, _| std::future::pending::<()>());
    let connector = Connector::new(&main, via, &format!("stuck-{via:?}-{shutdown}")).await;
    let renderer = connector.connect("stuck").await;
    let client = Probe::client(&renderer);
    let call = tokio::spawn(client.block(1).into_future());
    probe.wait_started(1).await;
    let mut refused = 0;
    for n in 0..600 {
        // In process a send past the bound is refused at once; across processes main stops
        // reading instead, and the rest wait in the stream.
        if let Err(IpcError::TooManyInFlight { .. }) = renderer.send(STUCK, (n,)) {
            refused += 1;
        }
    }
    if matches!(via, Via::InProcess) {
        assert_eq!(refused, 600 - 16);
    }
    if shutdown {
        main.shutdown();
    } else {
        assert!(main.disconnect(renderer.id()));
    }
    let reason = within("closed() to resolve", renderer.closed()).await;
    assert!(reason.contains("closed by main"), "{reason}");
    assert_eq!(
        probe.wait_dropped().await,
        1,
        "the running call was cancelled"
    );
    match within("the call", call).await.unwrap() {
        Err(IpcError::Disconnected { .. }) => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    eventually("main to forget the renderer", || main.renderer_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_closes_a_renderer_with_stuck_sends_in_process() {
    closing_a_renderer_with_stuck_sends(Via::InProcess, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_closes_a_renderer_with_stuck_sends_over_a_unix_socket() {
    closing_a_renderer_with_stuck_sends(Via::Unix(Codec::Binary), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_a_renderer_with_stuck_sends_over_a_websocket() {
    closing_a_renderer_with_stuck_sends(Via::WebSocket(Codec::Json), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_closes_a_renderer_with_stuck_sends_over_a_byte_stream() {
    closing_a_renderer_with_stuck_sends(Via::Bytes(Codec::Json), false).await;
}

// ---------------------------------------------------------------------------------------------
// Watching renderers, subscriptions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renderer_events_report_who_came_and_who_left_and_why() {
    let main = Main::new();
    let mut events = main.renderer_events();
    let connector = Connector::new(&main, Via::Unix(Codec::Binary), "watch").await;
    let first = connector.connect("first").await;
    let second = main.connect_in_process(RendererOptions::new("second"));
    let mut connected = Vec::new();
    for _ in 0..2 {
        match within("a connect", events.next()).await {
            Some(Ok(RendererEvent::Connected(caller))) => connected.push(caller),
            other => panic!("expected Connected, got {other:?}"),
        }
    }
    connected.sort_by_key(|c| c.renderer());
    assert_eq!(connected[0].label(), "first");
    assert_eq!(connected[1].label(), "second");
    main.disconnect(second.id());
    drop(first);
    let mut left = Vec::new();
    for _ in 0..2 {
        match within("a disconnect", events.next()).await {
            Some(Ok(RendererEvent::Disconnected { caller, reason })) => {
                left.push((caller.label().to_string(), reason))
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
    }
    left.sort();
    assert_eq!(left[0].0, "first");
    assert_eq!(left[0].1, "renderer disconnected");
    assert_eq!(
        left[1],
        ("second".to_string(), "closed by main".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_and_remove_all_subscriptions() {
    let main = Main::new();
    let connector = Connector::new(&main, Via::Unix(Codec::Json), "once").await;
    let renderer = connector.connect("once").await;
    let first = renderer.once(TICK);
    let mut stream_a = renderer.subscribe(TICK);
    let mut stream_b = renderer.subscribe(TICK);
    assert_eq!(renderer.subscription_count(TICK.name()), 3);
    main.emit(TICK, renderer.id(), (1,));
    main.emit(TICK, renderer.id(), (2,));
    assert_eq!(within("once", first).await, Ok((1,)));
    assert_eq!(within("a", stream_a.next()).await, Some(Ok((1,))));
    // Both events have reached the renderer (each event goes to every subscription as it
    // arrives) once `b` has read the second: only then is "what they held" both.
    assert_eq!(within("b", stream_b.next()).await, Some(Ok((1,))));
    assert_eq!(within("b", stream_b.next()).await, Some(Ok((2,))));
    assert_eq!(renderer.remove_all_subscriptions(TICK.name()), 2);
    assert_eq!(renderer.subscription_count(TICK.name()), 0);
    // The streams end after what they already held.
    assert_eq!(within("a", stream_a.next()).await, Some(Ok((2,))));
    assert_eq!(within("a ends", stream_a.next()).await, None);
    assert_eq!(within("b ends", stream_b.next()).await, None);
    // A one-shot subscription on a closed connection says why.
    let late = renderer.once(OTHER);
    main.disconnect(renderer.id());
    match within("once after close", late).await {
        Err(EventError::Closed { reason }) => {
            assert!(reason.contains("closed by main"), "{reason}")
        }
        other => panic!("expected Closed, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Stdio renderers

/// A renderer process whose stdin and stdout are sockets (what Node gives a child for `'pipe'`)
/// is served like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_on_socketpair_stdio_is_served() {
    use std::os::fd::OwnedFd;
    let main = Main::new();
    let (_state, _registration) = ipc_tests::ConformanceBackend::serve(&main).unwrap();
    let (stdin_parent, stdin_child) = std::os::unix::net::UnixStream::pair().unwrap();
    let (stdout_parent, stdout_child) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut command = tokio::process::Command::new(PEER);
    command
        .args(["renderer-stdio", "socketpair", "hello", "binary"])
        .stdin(std::process::Stdio::from(OwnedFd::from(stdin_child)))
        .stdout(std::process::Stdio::from(OwnedFd::from(stdout_child)))
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let to_child = tokio::net::UnixStream::from_std({
        stdin_parent.set_nonblocking(true).unwrap();
        stdin_parent
    })
    .unwrap();
    let from_child = tokio::net::UnixStream::from_std({
        stdout_parent.set_nonblocking(true).unwrap();
        stdout_parent
    })
    .unwrap();
    let id = within(
        "the handshake",
        main.accept(ByteStream::new(from_child, to_child)),
    )
    .await
    .unwrap();
    let state = _state;
    within(
        "the peer's hello",
        state.wait_for(|s| s.sends_from("socketpair") == ["hello"]),
    )
    .await;
    main.disconnect(id);
    let status = within("the peer to exit", child.wait()).await.unwrap();
    assert!(status.success(), "{status}");
}

/// A stdio renderer that prints to its stdout is cut off with a reason that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_renderer_that_prints_is_told_to_log_to_stderr() {
    let main = Main::new();
    let (_state, _registration) = ipc_tests::ConformanceBackend::serve(&main).unwrap();
    let mut events = main.renderer_events();
    let mut command = tokio::process::Command::new(PEER);
    command.args(["renderer-stdio", "chatty", "print", "binary"]);
    let _child = within("spawn", main.spawn_renderer(command)).await.unwrap();
    loop {
        match within("the renderer to be cut off", events.next()).await {
            Some(Ok(RendererEvent::Disconnected { reason, .. })) => {
                assert!(reason.contains("stderr"), "{reason}");
                assert!(reason.contains("debug: about to print"), "{reason}");
                break;
            }
            Some(Ok(RendererEvent::Connected(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A window behind a bridge

/// JSON frames over a byte stream, spoken by hand as the Electron bridge would.
struct RawBridge {
    read: tokio::io::ReadHalf<tokio::io::DuplexStream>,
    write: tokio::io::WriteHalf<tokio::io::DuplexStream>,
}

impl RawBridge {
    async fn send(&mut self, frame: Value) {
        let body = serde_json::to_vec(&frame).unwrap();
        self.write
            .write_all(&common::raw::framed(&body))
            .await
            .unwrap();
    }

    async fn next(&mut self) -> Value {
        let mut prefix = [0u8; 4];
        within("a frame", self.read.read_exact(&mut prefix))
            .await
            .unwrap();
        let mut body = vec![0; u32::from_be_bytes(prefix) as usize];
        within("a body", self.read.read_exact(&mut body))
            .await
            .unwrap();
        serde_json::from_slice(&body).unwrap()
    }
}

/// `Main::disconnect` on a window behind a bridge cancels that window's calls, tells the bridge
/// (a goodbye with `to`), refuses the window's later calls, and leaves the other windows alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnecting_one_window_behind_a_bridge() {
    let main = Main::new();
    let (backend, mut probe) = ProbeBackend::new();
    let _probe = Probe::handle(&main, backend).unwrap();
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (their_read, their_write) = tokio::io::split(theirs);
    let accept = tokio::spawn({
        let main = main.clone();
        async move {
            main.accept_bridge(ByteStream::new(their_read, their_write))
                .await
        }
    });
    let (read, write) = tokio::io::split(ours);
    let mut bridge = RawBridge { read, write };
    bridge
        .send(
            json!({"t": "hello", "protocol": 1, "role": "bridge", "codec": "json",
            "contracts": {}, "label": "bridge"}),
        )
        .await;
    assert_eq!(bridge.next().await["t"], "hello");
    within("accept", accept).await.unwrap().unwrap();
    let window = |id: u64| {
        json!({"id": id, "url": "app://w/index.html", "origin": "app://w",
        "main_frame": true})
    };
    bridge
        .send(
            json!({"t": "invoke", "id": 1, "ch": "probe:block", "args": [7], "sender": window(5)}),
        )
        .await;
    bridge
        .send(json!({"t": "invoke", "id": 2, "ch": "probe:echo", "args": [3], "sender": window(6)}))
        .await;
    assert_eq!(bridge.next().await, json!({"t": "reply", "id": 2, "ok": 3}));
    probe.wait_started(1).await;
    let windows = main.renderers();
    assert_eq!(
        windows.len(),
        3,
        "the bridge and its two windows: {windows:?}"
    );
    let five = windows
        .iter()
        .filter(|c| c.frame_url().is_some())
        .map(|c| c.renderer())
        .min()
        .unwrap();

    assert!(main.disconnect(five));
    assert_eq!(
        bridge.next().await,
        json!({"t": "goodbye", "to": 5, "reason": "closed by main"})
    );
    assert_eq!(
        probe.wait_dropped().await,
        7,
        "the window's call was cancelled"
    );
    assert!(main.renderer(five).is_none());
    bridge
        .send(json!({"t": "invoke", "id": 3, "ch": "probe:echo", "args": [4], "sender": window(5)}))
        .await;
    let refused = bridge.next().await;
    assert_eq!(refused["id"], 3, "{refused}");
    assert_eq!(refused["error"]["code"], "disconnected", "{refused}");
    bridge
        .send(json!({"t": "invoke", "id": 4, "ch": "probe:echo", "args": [5], "sender": window(6)}))
        .await;
    assert_eq!(bridge.next().await, json!({"t": "reply", "id": 4, "ok": 5}));
    // Once the bridge says the window is gone, the id is free of its past.
    bridge.send(json!({"t": "detach", "sender": 5})).await;
    bridge
        .send(json!({"t": "invoke", "id": 5, "ch": "probe:echo", "args": [6], "sender": window(5)}))
        .await;
    assert_eq!(bridge.next().await, json!({"t": "reply", "id": 5, "ok": 6}));
    let _ = Duration::ZERO;
}
