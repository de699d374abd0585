//! Hardening against hostile peers and crowds, over real sockets (`docs/PROTOCOL.md` §8): every
//! resource a peer can make main hold is bounded and timed out, and a well-behaved renderer keeps
//! being served throughout.
//!
//! - half-sent frames and chunked messages: cut after the frame timeout, their bytes freed;
//! - unfinished messages across connections: one budget, the connection that would exceed it
//!   refused with `too_large`;
//! - liveness: pings answered by main and by a real renderer; a silent peer cut by the
//!   heartbeat, a quiet but live one kept;
//! - connection limits: over the limit refused at once with `too_many_connections` (Unix socket
//!   and WebSocket, where it is HTTP 503), per listener, room coming back when a connection goes;
//!   silent clients cut at the handshake (or upgrade) deadline;
//! - a process out of descriptors (its open-file limit lowered in a child process): the accept
//!   loop survives and a good renderer is served once the idle connections are cut;
//! - the WebSocket endpoint: frames over the limit refused with a reason, non-loopback binds
//!   refused without an explicit opt-in;
//! - head-of-line: a renderer flooding a slow listener holds up nobody else.

mod common;

use std::process::Stdio as ProcessStdio;
use std::time::{Duration, Instant};

use common::raw::*;
use common::{Probe, eventually, within};
use futures_util::{SinkExt, StreamExt};
use ipc_runtime::{
    Codec, IpcError, Main, Renderer, RendererOptions, SendChannel, WebSocketListener,
    WebSocketOptions,
};
use ipc_tests::{Conformance, TEST_ORIGIN};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A chunk frame's body: tag 0, message id, total, offset (u32 BE each), then `data`.
fn chunk(id: u32, total: u32, offset: u32, data: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(&id.to_be_bytes());
    body.extend_from_slice(&total.to_be_bytes());
    body.extend_from_slice(&offset.to_be_bytes());
    body.extend_from_slice(data);
    body
}

/// A JSON invoke of `probe:echo` padded with spaces to exactly `len` bytes.
fn padded_echo(id: u64, n: u32, len: usize) -> Vec<u8> {
    let mut body = serde_json::to_vec(&invoke(id, "probe:echo", json!([n]))).unwrap();
    assert!(body.len() <= len);
    body.resize(len, b' ');
    body
}

/// Asserts the frames end with a goodbye whose reason contains `words`, after an error frame
/// with `code`.
fn assert_cut(frames: &[Value], code: &str, words: &str) {
    let reason = assert_closed_with_reason(frames);
    assert!(reason.contains(words), "reason {reason:?}: {frames:?}");
    assert_eq!(frames[0]["error"]["code"], code, "{frames:?}");
}

// ---------------------------------------------------------------------------------------------
// Half-sent frames and messages

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_frame_is_cut_after_the_frame_timeout_and_its_bytes_freed() {
    let fx = Fixture::new("stalled-frame", Main::builder().frame_timeout(ms(300))).await;
    // A small frame: 1000 bytes announced, 10 sent.
    let mut small = fx.raw(Wire::Json).await;
    let mut bytes = 1000u32.to_be_bytes().to_vec();
    bytes.extend_from_slice(br#"{"t":"inv"#);
    small.write_raw(&bytes).await.unwrap();
    // A large frame: 1 MiB announced, 200 KiB sent, which main holds meanwhile.
    let mut large = RawPeer::renderer(fx.path(), Wire::Json).await;
    let mut bytes = (1u32 << 20).to_be_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(b' ', 200 * 1024));
    large.write_raw(&bytes).await.unwrap();
    eventually("main to hold the large frame's bytes", || {
        fx.main.partial_message_bytes() >= 200 * 1024
    })
    .await;
    let started = Instant::now();
    for peer in [&mut small, &mut large] {
        let frames = peer.until_closed().await;
        assert_cut(&frames, "protocol", "stalled");
    }
    assert!(started.elapsed() >= ms(200), "cut only after the timeout");
    eventually("the held bytes to be freed", || {
        fx.main.partial_message_bytes() == 0
    })
    .await;
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_message_left_unfinished_is_cut_and_its_bytes_freed() {
    let fx = Fixture::new("stalled-chunks", Main::builder().frame_timeout(ms(300))).await;
    let mut raw = fx.raw(Wire::Json).await;
    // 3 MiB announced; one whole chunk of 1 MiB sent, then nothing. The frame itself is
    // complete: only the message stalls.
    raw.send(&chunk(1, 3 << 20, 0, &vec![b' '; 1 << 20])).await;
    eventually("main to hold the partial message", || {
        fx.main.partial_message_bytes() >= 1 << 20
    })
    .await;
    let frames = raw.until_closed().await;
    assert_cut(&frames, "protocol", "stalled");
    eventually("the held bytes to be freed", || {
        fx.main.partial_message_bytes() == 0
    })
    .await;
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_messages_share_one_budget_and_the_one_over_it_is_refused() {
    let budget = 2 << 20;
    let fx = Fixture::new("budget", Main::builder().max_partial_bytes(budget)).await;
    let message = padded_echo(7, 7, 1536 * 1024);
    let (first, rest) = message.split_at(600 * 1024);

    // A begins a 1.5 MiB message and pauses: main holds it.
    let mut a = fx.raw(Wire::Json).await;
    let total = u32::try_from(message.len()).unwrap();
    a.send(&chunk(1, total, 0, first)).await;
    eventually("main to hold A's message", || {
        fx.main.partial_message_bytes() >= 600 * 1024
    })
    .await;

    // B begins another: together they would go over the budget, so B is refused.
    let mut b = RawPeer::renderer(fx.path(), Wire::Json).await;
    // Main may close before it has read all of it.
    let _ = b.write_raw(&framed(&chunk(1, total, 0, first))).await;
    let frames = b.until_closed().await;
    assert_cut(&frames, "too_large", "limit");
    assert!(
        frames[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&budget.to_string())
    );

    // A finishes its message and is answered.
    a.send(&chunk(1, total, 600 * 1024, rest)).await;
    assert_eq!(
        a.expect("the reply to A's message").await,
        json!({"t": "reply", "id": 7, "ok": 7})
    );
    eventually("nothing held once A's message is in", || {
        fx.main.partial_message_bytes() == 0
    })
    .await;
    a.assert_answers(8).await;
    drop(a);
    fx.finish().await;
}

// ---------------------------------------------------------------------------------------------
// Liveness

#[test]
fn main_answers_pings_in_every_codec() {
    both_codecs(|wire| async move {
        let fx = Fixture::new(&format!("ping-{}", wire.name()), Main::builder()).await;
        let mut raw = fx.raw(wire).await;
        match wire {
            Wire::Json | Wire::MessagePack => raw.send_value(&json!({"t": "ping", "id": 41})).await,
            Wire::Binary => raw.send(&[11, 41]).await,
        }
        let pong = raw.expect("a pong").await;
        assert_eq!(pong, json!({"t": "pong", "id": 41}));
        raw.assert_answers(1).await;
        drop(raw);
        fx.finish().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_cuts_a_silent_peer_and_keeps_live_ones() {
    let fx = Fixture::new("heartbeat", Main::builder().heartbeat(ms(100), ms(150))).await;

    // Says hello, then nothing: pinged, then cut.
    let mut silent = fx.raw(Wire::Json).await;
    let started = Instant::now();
    let ping = silent.expect("a ping").await;
    assert_eq!(ping["t"], "ping", "{ping}");
    assert!(ping["id"].is_u64(), "{ping}");
    let frames = silent.until_closed().await;
    let reason = assert_closed_with_reason(&frames);
    assert!(reason.contains("no sign of life"), "{reason}");
    assert!(started.elapsed() >= ms(250), "cut after interval + timeout");

    // Answers every ping with a pong and sends nothing else: kept.
    let mut polite = RawPeer::renderer(fx.path(), Wire::Json).await;
    for _ in 0..4 {
        let ping = polite.expect("a ping").await;
        assert_eq!(ping["t"], "ping", "{ping}");
        polite
            .send_json(&json!({"t": "pong", "id": ping["id"]}))
            .await;
    }
    polite.assert_answers(3).await;

    // The fixture's real renderer was idle all along: its runtime answered the pings itself.
    fx.assert_served("after a quiet second").await;
    drop(polite);
    fx.finish().await;
}

// ---------------------------------------------------------------------------------------------
// Connection limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_refused_at_once_and_room_comes_back() {
    let builder = Main::builder()
        .max_connections(3)
        .handshake_timeout(Duration::from_secs(30));
    let fx = Fixture::new("connection-limit", builder).await;
    assert_eq!(fx.main.max_connections(), 3);
    // Two clients that connect and say nothing hold the other two slots.
    let silent_a = RawPeer::connect(fx.path()).await;
    let _silent_b = RawPeer::connect(fx.path()).await;
    eventually("three connections", || fx.main.connection_count() == 3).await;

    // One more: refused before its hello is read, long before the handshake deadline.
    let started = Instant::now();
    let options = RendererOptions::new("one too many").contract(Probe::schema());
    let refused = within("the refusal", Renderer::connect_unix(fx.path(), options)).await;
    assert_eq!(
        refused.err(),
        Some(IpcError::TooManyConnections { limit: 3 })
    );
    let mut raw = RawPeer::connect(fx.path()).await;
    let frame = assert_refused(&mut raw, "too_many_connections").await;
    assert!(
        frame["error"]["message"].as_str().unwrap().contains("3"),
        "{frame}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    fx.assert_served("while full").await;

    // A silent client goes: its slot comes back.
    drop(silent_a);
    eventually("the slot to come back", || fx.main.connection_count() == 2).await;
    let options = RendererOptions::new("next").contract(Probe::schema());
    let next = within(
        "a connection with room",
        Renderer::connect_unix(fx.path(), options),
    )
    .await
    .expect("served once there is room");
    let echo = within("a call", Probe::client(&next).echo(5)).await;
    assert_eq!(echo, Ok(5));
    fx.assert_served("after").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_say_hello_are_cut_at_the_handshake_deadline() {
    let fx = Fixture::new(
        "silent-handshakes",
        Main::builder().handshake_timeout(ms(300)),
    )
    .await;
    let mut silent: Vec<RawPeer> = Vec::new();
    for _ in 0..20 {
        silent.push(RawPeer::connect(fx.path()).await);
    }
    eventually("the silent clients to be counted", || {
        fx.main.connection_count() == 21
    })
    .await;
    for peer in &mut silent {
        let frame = assert_refused(peer, "protocol").await;
        assert!(
            frame["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no hello"),
            "{frame}"
        );
    }
    eventually("their slots to come back", || {
        fx.main.connection_count() == 1
    })
    .await;
    fx.assert_served("after").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_listener_has_a_limit_of_its_own() {
    install_panic_counter();
    let main = Main::builder().max_connections_per_endpoint(1).build();
    let (backend, _control) = common::ProbeBackend::new();
    let _probe = Probe::handle(&main, backend).unwrap();
    let first = main.listen_unix(socket_path("endpoint-a")).unwrap();
    let second = main.listen_unix(socket_path("endpoint-b")).unwrap();
    let connect = |path: std::path::PathBuf| {
        let options = RendererOptions::new("r").contract(Probe::schema());
        async move { within("a connection", Renderer::connect_unix(path, options)).await }
    };
    let on_first = connect(first.path().to_path_buf()).await.unwrap();
    assert_eq!(
        connect(first.path().to_path_buf()).await.err(),
        Some(IpcError::TooManyConnections { limit: 1 })
    );
    let on_second = connect(second.path().to_path_buf()).await.unwrap();
    assert_eq!(main.connection_count(), 2);
    drop(on_first);
    eventually("the first listener's slot to come back", || {
        main.connection_count() == 1
    })
    .await;
    connect(first.path().to_path_buf()).await.unwrap();
    assert!(!on_second.is_closed());
}

/// The test peer as main in a process whose open-file limit is `open_files`; returns the child,
/// the socket path and the connection limit main chose.
async fn low_nofile_main(
    name: &str,
    open_files: u32,
    max_connections: &str,
    handshake_ms: u64,
) -> (tokio::process::Child, std::path::PathBuf, usize) {
    let path = socket_path(name);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ipc-test-peer"))
        .args([
            "main-low-nofile",
            path.to_str().unwrap(),
            &open_files.to_string(),
            max_connections,
            &handshake_ms.to_string(),
        ])
        .stdin(ProcessStdio::null())
        .stdout(ProcessStdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the test peer starts");
    let stdout = child.stdout.take().unwrap();
    let line = within("the peer to listen", async {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await.unwrap();
        line
    })
    .await;
    let limit = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, path, limit)
}

/// Connects to a Unix socket without saying anything (the kernel queues it while main cannot
/// accept).
async fn idle_connection(path: &std::path::Path) -> UnixStream {
    within("a connection", UnixStream::connect(path))
        .await
        .expect("the socket accepts connections")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_main_leaves_descriptors_free_and_refuses_past_its_limit() {
    // 64 open files: main serves at most three quarters of them (48).
    let (mut child, path, limit) = low_nofile_main("nofile-default", 64, "default", 30_000).await;
    assert_eq!(limit, 48);
    let mut idle = Vec::new();
    for _ in 0..limit {
        idle.push(idle_connection(&path).await);
    }
    // Past the limit: refused with a reason, at once.
    for _ in 0..5 {
        let mut refused = RawPeer {
            stream: idle_connection(&path).await,
            wire: Wire::Json,
        };
        assert_refused(&mut refused, "too_many_connections").await;
    }
    // Room comes back when idle connections go (once main has seen them go).
    idle.truncate(limit - 2);
    let renderer = within("a renderer with room", async {
        loop {
            let options = RendererOptions::new("good").contract(Conformance::schema());
            match Renderer::connect_unix(&path, options).await {
                Err(IpcError::TooManyConnections { .. }) => tokio::time::sleep(ms(10)).await,
                connected => break connected,
            }
        }
    })
    .await
    .expect("served once there is room");
    assert_eq!(
        within("a call", Conformance::client(&renderer).divide(6, 3)).await,
        Ok(2)
    );
    assert!(child.try_wait().unwrap().is_none(), "main is still running");
    drop(child);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_accept_loop_survives_and_serves_again() {
    // A connection limit far above what 64 descriptors allow: accepting fails with EMFILE.
    let (mut child, path, _) = low_nofile_main("nofile-emfile", 64, "1000", 500).await;
    let mut idle = Vec::new();
    for _ in 0..150 {
        idle.push(idle_connection(&path).await);
    }
    // Queued behind the idle connections, which are cut at the handshake deadline in turns.
    let options = RendererOptions::new("good")
        .contract(Conformance::schema())
        .handshake_timeout(Duration::from_secs(30));
    let renderer = tokio::time::timeout(
        Duration::from_secs(30),
        Renderer::connect_unix(&path, options),
    )
    .await
    .expect("served within 30 s")
    .expect("the renderer is accepted");
    assert_eq!(
        within("a call", Conformance::client(&renderer).divide(9, 3)).await,
        Ok(3)
    );
    assert!(child.try_wait().unwrap().is_none(), "main is still running");
    // The idle connections were all told why they were cut.
    for stream in idle.iter_mut().take(10) {
        let mut peer = RawPeer {
            stream: std::mem::replace(stream, UnixStream::pair().unwrap().0),
            wire: Wire::Json,
        };
        assert_refused(&mut peer, "protocol").await;
    }
    drop(child);
    let _ = std::fs::remove_file(&path);
}

// ---------------------------------------------------------------------------------------------
// The WebSocket endpoint

async fn websocket_main(builder: ipc_runtime::MainBuilder) -> (Main, WebSocketListener) {
    install_panic_counter();
    let main = builder.build();
    let _ = ipc_tests::ConformanceBackend::serve(&main).unwrap();
    let listener = main
        .listen_websocket(WebSocketOptions::new().allow_origin(TEST_ORIGIN))
        .await
        .unwrap();
    (main, listener)
}

async fn websocket_renderer(listener: &WebSocketListener) -> Result<Renderer, IpcError> {
    let options = RendererOptions::new("page")
        .contract(Conformance::schema())
        .codec(Codec::Json);
    within(
        "a WebSocket connection",
        Renderer::connect_websocket(&listener.url(), Some(TEST_ORIGIN), options),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_tcp_clients_are_cut_at_the_upgrade_deadline() {
    let (main, listener) = websocket_main(Main::builder().handshake_timeout(ms(300))).await;
    let mut silent = TcpStream::connect(listener.local_addr()).await.unwrap();
    let mut half = TcpStream::connect(listener.local_addr()).await.unwrap();
    half.write_all(b"GET /ipc?token=").await.unwrap();
    eventually("two connections counted", || main.connection_count() == 2).await;
    for stream in [&mut silent, &mut half] {
        let mut rest = Vec::new();
        let read = within("the cut", stream.read_to_end(&mut rest)).await;
        // Closed with nothing said (or reset): there was no request to answer.
        assert!(read.is_err() || rest.is_empty(), "{rest:?}");
    }
    eventually("their slots to come back", || main.connection_count() == 0).await;
    let page = websocket_renderer(&listener).await.unwrap();
    assert_eq!(
        within("a call", Conformance::client(&page).divide(8, 2)).await,
        Ok(4)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_connections_over_the_limit_get_503() {
    let (main, listener) = websocket_main(Main::builder().max_connections_per_endpoint(1)).await;
    let first = websocket_renderer(&listener).await.unwrap();
    assert_eq!(
        websocket_renderer(&listener).await.err(),
        Some(IpcError::TooManyConnections { limit: 1 })
    );
    // What a browser sees: 503 with the reason, before anything else is read.
    let mut raw = TcpStream::connect(listener.local_addr()).await.unwrap();
    let request = format!(
        "GET /ipc?token={} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Origin: {TEST_ORIGIN}\r\n\r\n",
        listener.token(),
        listener.local_addr()
    );
    raw.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    within("the 503", raw.read_to_string(&mut response))
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(
        response.ends_with("too many connections (limit 1)"),
        "{response}"
    );

    drop(first);
    eventually("the slot to come back", || main.connection_count() == 0).await;
    websocket_renderer(&listener)
        .await
        .expect("served once there is room");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_frame_over_the_limit_is_refused_with_a_reason() {
    let (main, listener) = websocket_main(Main::builder().max_frame_size(64 * 1024)).await;
    let mut request = listener.url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", TEST_ORIGIN.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = json!({"t": "hello", "protocol": 1, "role": "renderer", "codec": "json",
        "contracts": {"conformance": Conformance::contract_hash()}});
    ws.send(Message::text(hello.to_string())).await.unwrap();
    let answer = within("main's hello", ws.next()).await.unwrap().unwrap();
    assert!(
        answer.to_text().unwrap().contains("\"hello\""),
        "{answer:?}"
    );
    ws.send(Message::binary(vec![b' '; 100 * 1024]))
        .await
        .unwrap();
    let mut frames = Vec::new();
    while let Some(Ok(message)) = within("main's answer", ws.next()).await {
        match message {
            Message::Text(text) => frames.push(serde_json::from_str::<Value>(&text).unwrap()),
            Message::Close(_) => break,
            _ => {}
        }
    }
    assert_cut(&frames, "too_large", "exceeds the limit");
    eventually("the connection to be gone", || main.connection_count() == 0).await;
    websocket_renderer(&listener)
        .await
        .expect("others are served");
    assert_no_foreign_panics();
}

#[tokio::test]
async fn the_websocket_endpoint_stays_on_loopback_unless_told_otherwise() {
    let everywhere = WebSocketOptions::new().bind("0.0.0.0:0".parse().unwrap());
    let refused = Main::new()
        .listen_websocket(everywhere.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(refused.to_string().contains("allow_remote"), "{refused}");
    let listener = Main::new()
        .listen_websocket(everywhere.allow_remote(true))
        .await
        .expect("an explicit opt-in binds");
    assert!(listener.local_addr().ip().is_unspecified());
}

// ---------------------------------------------------------------------------------------------
// Head-of-line

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_flooding_a_slow_listener_holds_up_nobody_else() {
    let fx = Fixture::new("slow-listener", Main::builder().max_sends_running(64)).await;
    // Every note takes 20 ms; the flooder sends 1000 of them.
    const NOTE: SendChannel<(String,)> = SendChannel::new("probe:note");
    let _slow = fx.main.on(NOTE, |_caller, (line,)| async move {
        if line.starts_with("slow") {
            tokio::time::sleep(ms(20)).await;
        }
    });
    let options = RendererOptions::new("flooder").contract(Probe::schema());
    let flooding = Renderer::connect_unix(fx.path(), options).await.unwrap();
    let flooder = Probe::client(&flooding);
    let flood = tokio::spawn({
        let flooder = flooder.clone();
        async move {
            let mut n = 0;
            while n < 1000 {
                match flooder.note(format!("slow {n}")) {
                    Ok(()) => n += 1,
                    // The renderer's queue to main is full (main stopped reading this renderer
                    // while 64 notes run): wait and send again.
                    Err(IpcError::TooManyInFlight { .. }) => tokio::time::sleep(ms(1)).await,
                    Err(error) => panic!("the flooder failed: {error}"),
                }
            }
        }
    });
    // While the flood runs (at most 64 notes at a time on main, so it lasts ~300 ms and more),
    // the good renderer's calls are answered as usual.
    let mut slowest = Duration::ZERO;
    for n in 0..50 {
        let started = Instant::now();
        fx.assert_served(&format!("during the flood {n}")).await;
        slowest = slowest.max(started.elapsed());
    }
    println!("slowest call of the good renderer during the flood: {slowest:?}");
    within("the flood to be written", flood).await.unwrap();
    drop((flooder, flooding));
    fx.finish().await;
}
