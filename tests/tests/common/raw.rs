//! Speaking the wire protocol by hand over a Unix socket, for the tests that play a misbehaving
//! peer (`bad_input`, `hardening`): raw frames in both codecs, a raw peer, and a fixture with a
//! main and a well-behaved renderer that must keep being served. The binary frames are written
//! and read by hand here (postcard headers, MessagePack payloads), independently of the
//! runtime's encoder.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use ipc_runtime::{Main, MainBuilder, Renderer, RendererOptions, UnixListenerHandle};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use super::{
    Probe, ProbeBackend, ProbeControl, TodoBackend, Todos, TodosClient, eventually, within,
};

// ---------------------------------------------------------------------------------------------
// Panic counter

/// Panics raised outside the test code (in the runtime, or in a library on its behalf).
static FOREIGN_PANICS: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

pub fn install_panic_counter() {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let from_tests = info.location().is_some_and(|l| {
                let file = l.file().replace('\\', "/");
                file.contains("tests/tests/")
            });
            if !from_tests {
                FOREIGN_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

pub fn assert_no_foreign_panics() {
    assert_eq!(
        FOREIGN_PANICS.load(Ordering::SeqCst),
        0,
        "something outside the test code panicked (see the output above)"
    );
}

// ---------------------------------------------------------------------------------------------
// Raw frames

/// Which codec a raw peer speaks after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Json,
    Binary,
    MessagePack,
}

impl Wire {
    pub fn name(self) -> &'static str {
        match self {
            Wire::Json => "json",
            Wire::Binary => "binary",
            Wire::MessagePack => "msgpack",
        }
    }
}

/// A length prefix and `body`.
pub fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

pub fn invoke(id: u64, channel: &str, args: Value) -> Value {
    json!({"t": "invoke", "id": id, "ch": channel, "args": args})
}

pub fn renderer_hello(codec: &str) -> Value {
    json!({
        "t": "hello",
        "protocol": 1,
        "role": "renderer",
        "codec": codec,
        "contracts": {"todos": Todos::contract_hash(), "probe": Probe::contract_hash()},
        "label": "raw",
        "max_frame": 4_194_304,
    })
}

// Binary codec: a tag byte, a postcard header, a MessagePack payload. Written by hand so the
// test speaks the wire format itself rather than reusing the runtime's encoder.
pub const INVOKE: u8 = 1;
pub const REPLY_OK: u8 = 2;
pub const REPLY_APP: u8 = 3;
pub const REPLY_ERROR: u8 = 4;
pub const CANCEL: u8 = 5;
pub const EVENT: u8 = 7;
pub const ERROR: u8 = 8;
pub const GOODBYE: u8 = 9;
pub const PING: u8 = 11;
pub const PONG: u8 = 12;

pub fn varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub fn postcard_str(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A binary invoke frame without a deadline; `args` is the MessagePack payload.
pub fn bin_invoke(id: u64, channel: &str, args: &[u8]) -> Vec<u8> {
    let mut out = vec![INVOKE];
    varint(&mut out, id);
    postcard_str(&mut out, channel);
    out.push(0); // timeout_ms: None
    out.extend_from_slice(args);
    out
}

/// MessagePack of a one-element tuple holding a small unsigned integer.
pub fn mp_u8_args(n: u8) -> Vec<u8> {
    assert!(n < 0x80);
    vec![0x91, n]
}

/// MessagePack of a one-element tuple holding a short string.
pub fn mp_str_args(s: &str) -> Vec<u8> {
    assert!(s.len() < 32);
    let mut out = vec![0x91, 0xa0 | s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out
}

/// Reads postcard.
pub struct Postcard<'a>(pub &'a [u8]);

impl Postcard<'_> {
    pub fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().expect("postcard: truncated");
        self.0 = rest;
        b
    }

    pub fn varint(&mut self) -> u64 {
        let mut n = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return n;
            }
            shift += 7;
        }
    }

    pub fn string(&mut self) -> String {
        let len = usize::try_from(self.varint()).unwrap();
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(s.to_vec()).expect("postcard: UTF-8 string")
    }

    pub fn option<T>(&mut self, read: impl FnOnce(&mut Self) -> T) -> Option<T> {
        match self.byte() {
            0 => None,
            1 => Some(read(self)),
            other => panic!("postcard: bad option tag {other}"),
        }
    }

    /// A `BinaryError`: every field of the wire error, in order, as the JSON codec would show it.
    pub fn error(&mut self) -> Value {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), self.string().into());
        error.insert("message".into(), self.string().into());
        for name in ["channel", "reason"] {
            if let Some(s) = self.option(Self::string) {
                error.insert(name.into(), s.into());
            }
        }
        for name in ["limit", "size", "after_ms"] {
            if let Some(n) = self.option(Self::varint) {
                error.insert(name.into(), n.into());
            }
        }
        for name in ["ours", "theirs", "rule"] {
            if let Some(s) = self.option(Self::string) {
                error.insert(name.into(), s.into());
            }
        }
        Value::Object(error)
    }

    pub fn done(&self) {
        assert!(
            self.0.is_empty(),
            "postcard: {} trailing bytes",
            self.0.len()
        );
    }
}

/// A binary frame as the JSON codec would show it (payloads as arrays of their bytes).
pub fn decode_binary(frame: &[u8]) -> Value {
    let (&tag, body) = frame
        .split_first()
        .expect("main never sends an empty frame");
    let mut r = Postcard(body);
    match tag {
        REPLY_OK | REPLY_APP => {
            let id = r.varint();
            let key = if tag == REPLY_OK { "ok" } else { "app" };
            json!({"t": "reply", "id": id, key: r.0.to_vec()})
        }
        REPLY_ERROR => {
            let id = r.varint();
            let error = r.error();
            r.done();
            json!({"t": "reply", "id": id, "error": error})
        }
        EVENT => {
            let channel = r.string();
            json!({"t": "event", "ch": channel, "args": r.0.to_vec()})
        }
        ERROR => {
            let id = r.option(Postcard::varint);
            let error = r.error();
            r.done();
            match id {
                Some(id) => json!({"t": "error", "id": id, "error": error}),
                None => json!({"t": "error", "error": error}),
            }
        }
        GOODBYE => {
            let reason = r.string();
            r.done();
            json!({"t": "goodbye", "reason": reason})
        }
        PING | PONG => {
            let id = r.varint();
            r.done();
            json!({"t": if tag == PING { "ping" } else { "pong" }, "id": id})
        }
        other => panic!("main sent a binary frame with tag {other}: {frame:?}"),
    }
}

/// One end of a connection spoken by hand: frames in, frames out, and raw bytes when needed.
/// Used as a renderer against a real main, and as a fake main against a real renderer.
pub struct RawPeer {
    pub stream: UnixStream,
    pub wire: Wire,
}

impl RawPeer {
    pub async fn connect(path: &Path) -> RawPeer {
        let stream = within("a raw connection", UnixStream::connect(path))
            .await
            .expect("main listens");
        RawPeer {
            stream,
            wire: Wire::Json,
        }
    }

    /// Connects and completes the handshake as a renderer speaking `wire`.
    pub async fn renderer(path: &Path, wire: Wire) -> RawPeer {
        let mut peer = RawPeer::connect(path).await;
        peer.send_json(&renderer_hello(wire.name())).await;
        let answer = peer.expect("main's hello").await;
        assert_eq!(answer["t"], "hello", "{answer}");
        assert_eq!(answer["role"], "main", "{answer}");
        assert_eq!(answer["codec"], wire.name(), "{answer}");
        assert!(answer["renderer"].is_u64(), "{answer}");
        peer.wire = wire;
        peer
    }

    pub async fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    pub async fn send(&mut self, body: &[u8]) {
        within("writing a frame", self.write_raw(&framed(body)))
            .await
            .expect("the frame is written");
    }

    pub async fn send_json(&mut self, frame: &Value) {
        self.send(&serde_json::to_vec(frame).unwrap()).await;
    }

    /// Sends `frame` in this peer's codec of named fields (JSON or MessagePack).
    pub async fn send_value(&mut self, frame: &Value) {
        match self.wire {
            Wire::Json => self.send_json(frame).await,
            Wire::MessagePack => self.send_msgpack(frame).await,
            Wire::Binary => panic!("the binary codec's frames are not maps: build them by hand"),
        }
    }

    /// Sends `frame` as a MessagePack map (the msgpack codec's frames).
    pub async fn send_msgpack(&mut self, frame: &Value) {
        self.send(&rmp_serde::to_vec_named(frame).unwrap()).await;
    }

    /// Closes our write half; we can still read.
    pub async fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// The next frame's body, or `None` when the peer closed the stream at a frame boundary.
    pub async fn read_frame(&mut self) -> Option<Vec<u8>> {
        within("a frame (or EOF)", async {
            let mut prefix = [0u8; 4];
            let mut got = 0;
            while got < 4 {
                match self.stream.read(&mut prefix[got..]).await {
                    Ok(0) => {
                        assert_eq!(got, 0, "the stream ended inside a length prefix");
                        return None;
                    }
                    Ok(n) => got += n,
                    // A Unix socket closed with our unread bytes in it reports a reset after
                    // the bytes it did send: the same as EOF here.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && got == 0 => {
                        return None;
                    }
                    Err(e) => panic!("read failed: {e}"),
                }
            }
            let len = u32::from_be_bytes(prefix) as usize;
            assert!(len <= 1 << 20, "unexpectedly large frame: {len} bytes");
            let mut body = vec![0; len];
            self.stream
                .read_exact(&mut body)
                .await
                .expect("the peer sent a whole frame");
            Some(body)
        })
        .await
    }

    /// The next frame decoded (JSON, or binary shown as JSON), or `None` at EOF.
    pub async fn next(&mut self) -> Option<Value> {
        let body = self.read_frame().await?;
        Some(match self.wire {
            Wire::Json => serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("invalid JSON frame ({e}): {body:?}")),
            Wire::Binary => decode_binary(&body),
            Wire::MessagePack => rmp_serde::from_slice(&body)
                .unwrap_or_else(|e| panic!("invalid MessagePack frame ({e}): {body:?}")),
        })
    }

    pub async fn expect(&mut self, what: &str) -> Value {
        match self.next().await {
            Some(frame) => frame,
            None => panic!("the stream closed instead of delivering {what}"),
        }
    }

    /// Expects an error frame outside any call, with `code`; returns it.
    pub async fn expect_error(&mut self, code: &str) -> Value {
        let frame = self.expect(&format!("an error frame `{code}`")).await;
        assert_eq!(frame["t"], "error", "{frame}");
        assert!(frame.get("id").is_none(), "not about a call: {frame}");
        assert_eq!(frame["error"]["code"], code, "{frame}");
        assert!(
            !frame["error"]["message"].as_str().unwrap().is_empty(),
            "{frame}"
        );
        frame
    }

    /// Expects the reply to call `id` failing with `code`; returns it.
    pub async fn expect_reply_error(&mut self, id: u64, code: &str) -> Value {
        let frame = self.expect(&format!("a `{code}` reply to call {id}")).await;
        assert_eq!(frame["t"], "reply", "{frame}");
        assert_eq!(frame["id"], id, "{frame}");
        assert_eq!(frame["error"]["code"], code, "{frame}");
        frame
    }

    /// Reads until the peer closes; returns the frames it sent on the way.
    pub async fn until_closed(&mut self) -> Vec<Value> {
        let mut frames = Vec::new();
        while let Some(frame) = self.next().await {
            frames.push(frame);
            assert!(frames.len() < 1000, "the peer does not close: {frames:?}");
        }
        frames
    }

    /// Proves the connection is still served: a valid invoke is answered.
    pub async fn assert_answers(&mut self, id: u64) {
        let n = u8::try_from(id).unwrap();
        let expected = match self.wire {
            Wire::Json => {
                self.send_json(&invoke(id, "probe:echo", json!([n]))).await;
                json!({"t": "reply", "id": id, "ok": n})
            }
            Wire::Binary => {
                self.send(&bin_invoke(id, "probe:echo", &mp_u8_args(n)))
                    .await;
                json!({"t": "reply", "id": id, "ok": [n]})
            }
            Wire::MessagePack => {
                self.send_msgpack(&invoke(id, "probe:echo", json!([n])))
                    .await;
                json!({"t": "reply", "id": id, "ok": n})
            }
        };
        assert_eq!(self.expect("the reply to a valid invoke").await, expected);
    }
}

/// Asserts main closed after a handshake refusal: exactly one error frame with `code`, then EOF.
pub async fn assert_refused(peer: &mut RawPeer, code: &str) -> Value {
    let frames = peer.until_closed().await;
    assert_eq!(frames.len(), 1, "one error frame, then EOF: {frames:?}");
    let frame = frames.into_iter().next().unwrap();
    assert_eq!(frame["t"], "error", "{frame}");
    assert_eq!(frame["error"]["code"], code, "{frame}");
    assert!(
        !frame["error"]["message"].as_str().unwrap().is_empty(),
        "{frame}"
    );
    frame
}

/// Asserts the frames main sent before EOF end with a goodbye stating a reason, and that
/// everything before it is an error frame; returns the goodbye's reason.
pub fn assert_closed_with_reason(frames: &[Value]) -> String {
    let (last, before) = frames
        .split_last()
        .unwrap_or_else(|| panic!("main closed without saying why"));
    assert_eq!(last["t"], "goodbye", "{frames:?}");
    let reason = last["reason"].as_str().unwrap_or_default().to_string();
    assert!(
        !reason.is_empty(),
        "the goodbye states a reason: {frames:?}"
    );
    for frame in before {
        assert_eq!(frame["t"], "error", "{frames:?}");
    }
    reason
}

// ---------------------------------------------------------------------------------------------
// Fixture: a main on a Unix socket, with a well-behaved renderer connected

pub fn socket_path(name: &str) -> PathBuf {
    super::socket_path(&format!("bad-{name}"))
}

pub struct Fixture {
    pub main: Main,
    pub listener: UnixListenerHandle,
    pub good: TodosClient,
    pub probe: ProbeControl,
}

impl Fixture {
    pub async fn new(name: &str, builder: MainBuilder) -> Fixture {
        install_panic_counter();
        let main = builder.build();
        let (todos, _lines) = TodoBackend::new();
        let _todos = Todos::handle(&main, todos).unwrap();
        let (backend, probe) = ProbeBackend::new();
        let _probe = Probe::handle(&main, backend).unwrap();
        let listener = main.listen_unix(socket_path(name)).unwrap();
        let options = RendererOptions::new("good")
            .contract(Todos::schema())
            .contract(Probe::schema());
        let renderer = within(
            "the good renderer to connect",
            Renderer::connect_unix(listener.path(), options),
        )
        .await
        .expect("the good renderer connects");
        let fixture = Fixture {
            main,
            listener,
            good: Todos::client(&renderer),
            probe,
        };
        fixture.assert_served("before").await;
        fixture
    }

    pub fn path(&self) -> &Path {
        self.listener.path()
    }

    pub async fn raw(&self, wire: Wire) -> RawPeer {
        let peer = RawPeer::renderer(self.path(), wire).await;
        eventually("main to register the raw renderer", || {
            self.main.renderer_count() == 2
        })
        .await;
        peer
    }

    /// The good renderer is still connected and served, and nothing panicked.
    pub async fn assert_served(&self, title: &str) {
        let todo = within("the good renderer's call", self.good.add(title.into()))
            .await
            .expect("the good renderer is served");
        assert_eq!(todo.title, title);
        let renderer = self.good.renderer();
        assert!(!renderer.is_closed());
        assert!(self.main.renderer(renderer.id()).is_some());
        assert_no_foreign_panics();
    }

    /// Main forgets every connection but the good renderer's.
    pub async fn assert_only_good_left(&self) {
        eventually("main to drop the bad connection", || {
            self.main.renderer_count() == 1
        })
        .await;
    }

    /// The end of every test: the bad connection is gone, the good one is served.
    pub async fn finish(self) {
        self.assert_only_good_left().await;
        self.assert_served("after").await;
    }
}

pub fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `test` once per codec on a fresh runtime.
pub fn both_codecs<F: std::future::Future<Output = ()>>(test: impl Fn(Wire) -> F) {
    for wire in [Wire::Json, Wire::Binary, Wire::MessagePack] {
        multi_thread().block_on(test(wire));
    }
}
