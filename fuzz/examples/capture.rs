//! Writes the seed corpus (`fuzz/corpus/<target>/`): frames captured from real sessions (a real
//! `Main` and `Renderer` over a tapped in-memory pipe, both codecs: invokes, sends, events, lag
//! notices, application and framework errors, timeouts, cancels, chunked messages both ways),
//! plus hand-written attacks. Run from the repository root:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example capture
//! ```
//!
//! It replaces the files it wrote before (`captured-*`, `attack-*`) and leaves any other file
//! of the corpus (inputs a campaign minimized into it) alone.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt;
use ipc_fuzz::contract::{
    Adjacent, Backend, External, Flat, Fuzz, FuzzClient, Inner, Internal, Nested, Point, Tree,
    Untagged,
};
use ipc_fuzz::session::{self, Options, SMALL_MAX_FRAME, SMALL_MAX_MESSAGE, framed};
use ipc_runtime::{
    ByteStream, Bytes, Codec, InvokeChannel, Never, NoArgs, Renderer, RendererOptions,
};
use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};

/// Every target with a corpus.
const TARGETS: [&str; 7] = [
    "frame_json",
    "frame_binary",
    "frame_msgpack",
    "handshake",
    "stream",
    "args",
    "session",
];

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut corpus = Corpus::new(&root);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for codec in [Codec::Json, Codec::Binary] {
        let (to_main, to_renderer) = runtime.block_on(capture(codec));
        corpus.add_session(codec, &to_main, &to_renderer);
    }
    attacks(&mut corpus);
    corpus.write();
}

// ---------------------------------------------------------------------------------------------
// A real session over a tapped pipe

/// A reader that keeps a copy of everything read through it.
struct Tap<R> {
    inner: R,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Tap<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let new = buf.filled()[before..].to_vec();
        self.seen.lock().unwrap().extend_from_slice(&new);
        poll
    }
}

/// Runs one session with `codec`; returns what the renderer wrote and what main wrote.
async fn capture(codec: Codec) -> (Vec<u8>, Vec<u8>) {
    // The session target's main, with the small renderer's limits, so that messages above 256
    // bytes go to main in chunks and replies above 256 bytes come back in chunks.
    let options = Options(u8::from(codec == Codec::Binary) | 4);
    let main = session::main_for(options);
    let _registration = Fuzz::handle(&main, Backend { main: main.clone() }).unwrap();
    let to_main = Arc::new(Mutex::new(Vec::new()));
    let to_renderer = Arc::new(Mutex::new(Vec::new()));
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (their_read, their_write) = tokio::io::split(theirs);
    let (our_read, our_write) = tokio::io::split(ours);
    let accept = tokio::spawn({
        let main = main.clone();
        let seen = to_main.clone();
        async move {
            let read = Tap {
                inner: their_read,
                seen,
            };
            main.accept(ByteStream::new(read, their_write)).await
        }
    });
    let read = Tap {
        inner: our_read,
        seen: to_renderer.clone(),
    };
    let renderer = Renderer::connect(
        ByteStream::new(read, our_write),
        RendererOptions::new("capture")
            .contract(Fuzz::schema())
            .codec(codec)
            .max_frame_size(SMALL_MAX_FRAME)
            .max_message_size(SMALL_MAX_MESSAGE),
    )
    .await
    .expect("connected");
    let client = FuzzClient::new(renderer.clone());
    let mut changes = client.on_changed();

    let inner = Inner {
        n: -3,
        text: "milk".into(),
        maybe: Some(7),
    };
    let tree = Tree {
        label: "root".into(),
        children: vec![Tree {
            label: "leaf".into(),
            children: vec![],
        }],
    };
    let flat = Flat {
        id: 9,
        inner: inner.clone(),
        shape: Internal::Struct {
            x: 1.5,
            tags: vec!["a".into(), "b".into()],
        },
    };
    client
        .external(
            External::Struct {
                a: -1,
                b: Some("b".into()),
            },
            vec![
                External::Unit,
                External::Newtype(3),
                External::Tuple(1, "x".into()),
            ],
        )
        .await
        .unwrap();
    // An application error, then a value.
    client.internal(Internal::Unit).await.unwrap_err();
    client
        .internal(Internal::Wrapped(Point { px: 1, py: -2 }))
        .await
        .unwrap();
    client
        .adjacent(
            Adjacent::Struct {
                m: BTreeMap::from([("k".to_string(), 1)]),
            },
            Some(Adjacent::Tuple(1, true)),
        )
        .await
        .unwrap();
    client
        .adjacent(Adjacent::Newtype(vec![1, 2]), None)
        .await
        .unwrap();
    client
        .untagged(Untagged::List(vec![
            Untagged::Number(1),
            Untagged::Text("a".into()),
            Untagged::Pair(1, 2),
            Untagged::Record {
                id: 1,
                name: "n".into(),
            },
            Untagged::Tagged(Internal::Unit),
            Untagged::Blob(Bytes::from(vec![0u8, 1, 2, 255])),
        ]))
        .await
        .unwrap();
    client.flat(flat.clone()).await.unwrap();
    client
        .maps(
            HashMap::from([("x".to_string(), vec![1, 2, 3])]),
            BTreeMap::from([(1, Some("one".to_string())), (2, None)]),
        )
        .await
        .unwrap();
    client.blob(Bytes::from(vec![7u8; 10]), None).await.unwrap();
    // Chunked both ways: 1000 bytes to main, 2000 back (frames of 256).
    client
        .blob(
            Bytes::from(vec![1u8; 1000]),
            Some(Bytes::from(vec![2u8; 2000])),
        )
        .await
        .unwrap();
    // Above main's max_message (4096): refused.
    let _ = client.blob(Bytes::from(vec![3u8; 5000]), None).await;
    client
        .nested(Nested {
            inner: inner.clone(),
            items: vec![inner.clone()],
            tree,
            flat: Some(flat),
            by_key: HashMap::from([("u".to_string(), Adjacent::Unit)]),
        })
        .await
        .unwrap();
    client.nothing().await.unwrap();
    // Events: more than main queues (4), so lag notices too.
    client.emit(8, Untagged::Text("ev".into())).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_millis(100), changes.next()).await;
    // A framework error from a panicking handler (allowed through the hook).
    session::allow_deliberate_panics();
    client.panics(true).await.unwrap_err();
    client.panics(false).await.unwrap();
    // A deadline that passes (`timeout`), and a call given up (`cancel`).
    client
        .wait(500)
        .timeout(Duration::from_millis(20))
        .await
        .unwrap_err();
    let _ = tokio::time::timeout(Duration::from_millis(20), client.wait(800)).await;
    // More calls at once than main runs (4): `too_many_in_flight`.
    let waits: Vec<_> = (0..6)
        .map(|_| std::future::IntoFuture::into_future(client.wait(30)))
        .collect();
    let _ = futures_util::future::join_all(waits).await;
    // No handler, and arguments of the wrong type.
    let missing: InvokeChannel<NoArgs, (), Never> = InvokeChannel::new("fuzz:missing");
    renderer.invoke(missing, NoArgs).await.unwrap_err();
    let mistyped: InvokeChannel<(String,), u32, Never> = InvokeChannel::new("fuzz:wait");
    renderer.invoke(mistyped, ("x".into(),)).await.unwrap_err();
    client.note("hello".into(), Adjacent::Unit).unwrap();
    client.nothing().await.unwrap();
    drop((client, changes, renderer));
    let _ = tokio::time::timeout(Duration::from_secs(2), accept).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let to_main = to_main.lock().unwrap().clone();
    let to_renderer = to_renderer.lock().unwrap().clone();
    (to_main, to_renderer)
}

// ---------------------------------------------------------------------------------------------
// The corpus

struct Corpus {
    root: PathBuf,
    /// Target → file name → contents.
    files: BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>,
}

impl Corpus {
    fn new(root: &Path) -> Self {
        Corpus {
            root: root.to_path_buf(),
            files: BTreeMap::new(),
        }
    }

    fn add(&mut self, target: &'static str, name: impl Into<String>, data: Vec<u8>) {
        let files = self.files.entry(target).or_default();
        // The same input twice is one file (the first name).
        if !files.values().any(|d| d == &data) {
            files.insert(name.into(), data);
        }
    }

    fn add_session(&mut self, codec: Codec, to_main: &[u8], to_renderer: &[u8]) {
        let name = codec.name();
        let frame_target = if codec == Codec::Json {
            "frame_json"
        } else {
            "frame_binary"
        };
        // The stream reader, both directions (step sizes 1 and 120).
        for (dir, stream) in [("to-main", to_main), ("to-renderer", to_renderer)] {
            let mut input = vec![0x80, 7];
            input.extend_from_slice(stream);
            self.add("stream", format!("captured-{name}-{dir}"), input);
        }
        // The session: the renderer's bytes after its hello.
        let hello_len = 4 + u32::from_be_bytes(to_main[..4].try_into().unwrap()) as usize;
        let mut input = vec![u8::from(codec == Codec::Binary) | 4];
        input.extend_from_slice(&to_main[hello_len..]);
        self.add("session", format!("captured-{name}"), input);
        for (dir, stream) in [("to-main", to_main), ("to-renderer", to_renderer)] {
            for (i, message) in messages(stream).into_iter().enumerate() {
                if i == 0 {
                    self.add("handshake", format!("captured-{dir}-hello-{name}"), message);
                    continue;
                }
                let (kind, args) = describe(codec, &message);
                self.add(
                    frame_target,
                    format!("captured-{dir}-{i:03}-{kind}"),
                    message.clone(),
                );
                // The msgpack codec's frames are the JSON ones as MessagePack maps.
                if codec == Codec::Json
                    && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&message)
                {
                    self.add(
                        "frame_msgpack",
                        format!("captured-{dir}-{i:03}-{kind}"),
                        rmp_serde::to_vec_named(&value).expect("a JSON value packs"),
                    );
                }
                if let Some(args) = args {
                    self.add("args", format!("captured-{name}-{dir}-{i:03}-{kind}"), args);
                }
            }
        }
    }

    /// Writes every file, replacing what this program wrote before.
    fn write(&self) {
        let mut total = 0;
        for target in TARGETS {
            let dir = self.root.join(target);
            std::fs::create_dir_all(&dir).unwrap();
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with("captured-") || name.starts_with("attack-") {
                    std::fs::remove_file(&path).unwrap();
                }
            }
            let files = self.files.get(target).cloned().unwrap_or_default();
            let bytes: usize = files.values().map(Vec::len).sum();
            for (name, data) in &files {
                std::fs::write(dir.join(name), data).unwrap();
            }
            println!("{target}: {} files, {bytes} bytes", files.len());
            total += bytes;
        }
        println!("corpus: {total} bytes in {}", self.root.display());
    }
}

/// The messages of a stream: frame bodies, chunked messages reassembled (chunks left out).
fn messages(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut partial: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut at = 0;
    while let Some(prefix) = stream.get(at..at + 4) {
        let len = u32::from_be_bytes(prefix.try_into().unwrap()) as usize;
        let Some(body) = stream.get(at + 4..at + 4 + len) else {
            break;
        };
        at += 4 + len;
        if body.first() == Some(&0) && body.len() > 13 {
            let id = u32::from_be_bytes(body[1..5].try_into().unwrap());
            let total = u32::from_be_bytes(body[5..9].try_into().unwrap()) as usize;
            let message = partial.entry(id).or_default();
            message.extend_from_slice(&body[13..]);
            if message.len() >= total {
                out.push(partial.remove(&id).unwrap());
            }
        } else {
            out.push(body.to_vec());
        }
    }
    out
}

/// A frame's kind (for its file name) and its arguments, if it carries any.
fn describe(codec: Codec, frame: &[u8]) -> (String, Option<Vec<u8>>) {
    if codec == Codec::Json {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(frame) else {
            return ("unknown".into(), None);
        };
        let kind = value["t"].as_str().unwrap_or("unknown").to_string();
        let args = value.get("args").map(|a| serde_json::to_vec(a).unwrap());
        return (kind, args);
    }
    let mut at = 1;
    let kind = match frame[0] {
        1 => {
            varint(frame, &mut at);
            string(frame, &mut at);
            if frame[at] == 1 {
                at += 1;
                varint(frame, &mut at);
            } else {
                at += 1;
            }
            "invoke"
        }
        2 => "reply-ok",
        3 => "reply-app",
        4 => "reply-error",
        5 => "cancel",
        6 => {
            string(frame, &mut at);
            "send"
        }
        7 => {
            string(frame, &mut at);
            "event"
        }
        8 => "error",
        9 => "goodbye",
        10 => "lag",
        _ => "other",
    };
    let args = matches!(frame[0], 1 | 6 | 7).then(|| frame[at..].to_vec());
    (kind.into(), args)
}

fn varint(data: &[u8], at: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let b = data[*at];
        *at += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return n;
        }
        shift += 7;
    }
}

fn string(data: &[u8], at: &mut usize) {
    let len = varint(data, at) as usize;
    *at += len;
}

// ---------------------------------------------------------------------------------------------
// Hand-written attacks

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
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

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A binary invoke frame without a deadline.
fn bin_invoke(id: u64, channel: &str, args: &[u8]) -> Vec<u8> {
    let mut out = vec![1];
    put_varint(&mut out, id);
    put_str(&mut out, channel);
    out.push(0);
    out.extend_from_slice(args);
    out
}

/// A binary invoke frame with a deadline.
fn bin_invoke_timeout(id: u64, channel: &str, timeout_ms: u64, args: &[u8]) -> Vec<u8> {
    let mut out = vec![1];
    put_varint(&mut out, id);
    put_str(&mut out, channel);
    out.push(1);
    put_varint(&mut out, timeout_ms);
    out.extend_from_slice(args);
    out
}

fn bin_cancel(id: u64) -> Vec<u8> {
    let mut out = vec![5];
    put_varint(&mut out, id);
    out
}

/// A chunk frame.
fn chunk(id: u32, total: u32, offset: u32, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(data);
    out
}

fn json_frame(value: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

/// `[` then 1000 map32 headers each claiming 4 G entries: before the MessagePack pre-check,
/// decoding it as an internally tagged enum reserved about a gigabyte.
fn msgpack_amplification() -> Vec<u8> {
    let mut attack = vec![0x91];
    for _ in 0..1000 {
        attack.extend_from_slice(&[0xdf, 0xff, 0xff, 0xff, 0xff]);
    }
    attack
}

fn session_input(options: u8, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![options];
    for frame in frames {
        out.extend_from_slice(&framed(frame));
    }
    out
}

fn attacks(corpus: &mut Corpus) {
    let amplification = msgpack_amplification();
    let deep_msgpack = {
        let mut v = vec![0x91; 2000];
        v.push(0xc0);
        v
    };
    let deep_json = {
        let mut v = b"[".repeat(3000);
        v.extend_from_slice(&b"]".repeat(3000));
        v
    };

    // MessagePack frames.
    corpus.add(
        "frame_msgpack",
        "attack-map32-claim",
        vec![0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, b't'],
    );
    corpus.add(
        "frame_msgpack",
        "attack-payload-amplification",
        [&[0x82, 0xa1, b't', 0xa4][..], b"send", &[0xa4], b"args", &amplification].concat(),
    );
    corpus.add("frame_msgpack", "attack-deep-nesting", {
        let mut v = vec![0x81, 0xa4];
        v.extend_from_slice(b"args");
        v.extend_from_slice(&deep_msgpack);
        v
    });

    // Arguments.
    corpus.add(
        "args",
        "attack-msgpack-map32-amplification",
        amplification.clone(),
    );
    corpus.add(
        "args",
        "attack-msgpack-array32-claim",
        vec![0x91, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
    );
    corpus.add(
        "args",
        "attack-msgpack-str32-claim",
        vec![0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
    );
    corpus.add(
        "args",
        "attack-msgpack-bin32-claim",
        vec![0x92, 0xc6, 0xff, 0xff, 0xff, 0xff, 0xc0],
    );
    corpus.add("args", "attack-msgpack-deep-nesting", deep_msgpack.clone());
    corpus.add("args", "attack-json-deep-nesting", deep_json.clone());
    // The worst linear cases measured for the allocation bound (`ipc_fuzz::alloc::PER_BYTE`):
    // one-byte MessagePack values that become large ones (an untagged enum buffered as serde
    // `Content`, then a 40-byte value; flattened fields buffered, then strings).
    corpus.add("args", "attack-msgpack-untagged-list-of-fixints", {
        let mut v = vec![0x91, 0x91, 0xdd];
        v.extend_from_slice(&20_000u32.to_be_bytes());
        v.extend(std::iter::repeat_n(0u8, 20_000));
        v
    });
    corpus.add("args", "attack-msgpack-flat-tags-of-empty-strings", {
        let mut v = vec![0x91, 0x86, 0xa2, b'i', b'd', 0x01, 0xa1, b'n', 0x01, 0xa4];
        v.extend_from_slice(b"text");
        v.extend_from_slice(&[0xa0, 0xa4]);
        v.extend_from_slice(b"kind");
        v.push(0xa6);
        v.extend_from_slice(b"Struct");
        v.extend_from_slice(&[0xa1, b'x', 0x00, 0xa4]);
        v.extend_from_slice(b"tags");
        v.push(0xdd);
        v.extend_from_slice(&10_000u32.to_be_bytes());
        v.extend(std::iter::repeat_n(0xa0u8, 10_000));
        v
    });
    // A recursive untagged enum 120 levels deep around 1000 elements: serde clones the buffered
    // subtree at every level (about 4 KB requested per input byte, see `ipc_fuzz::alloc`).
    corpus.add("args", "attack-msgpack-untagged-nesting-clones", {
        let mut v = vec![0x91; 121];
        v.extend_from_slice(&[0xdc, 0x03, 0xe8]);
        v.extend(std::iter::repeat_n(0u8, 1000));
        v
    });
    corpus.add("args", "attack-json-untagged-nesting-clones", {
        let mut v = b"[".repeat(121);
        v.extend_from_slice(&b"0,".repeat(999));
        v.push(b'0');
        v.extend_from_slice(&b"]".repeat(121));
        v
    });
    corpus.add(
        "args",
        "attack-json-flatten-duplicate-keys",
        br#"[{"id":1,"id":2,"n":1,"text":"t","kind":"Unit","kind":"Struct"}]"#.to_vec(),
    );
    corpus.add(
        "args",
        "attack-json-number-overflow",
        br#"[1e999, 18446744073709551616, -0.0]"#.to_vec(),
    );

    // Frames.
    corpus.add(
        "frame_binary",
        "attack-invoke-msgpack-amplification",
        bin_invoke(1, "fuzz:internal", &amplification),
    );
    corpus.add("frame_binary", "attack-send-str-length-claim", {
        let mut out = vec![6];
        put_varint(&mut out, u64::from(u32::MAX));
        out.extend_from_slice(b"fuzz:note");
        out
    });
    corpus.add("frame_binary", "attack-invoke-varint-overlong", {
        let mut out = vec![1];
        out.extend_from_slice(&[0xff; 11]);
        out
    });
    corpus.add(
        "frame_binary",
        "attack-invoke-deep-msgpack",
        bin_invoke(2, "fuzz:untagged", &deep_msgpack),
    );
    corpus.add("frame_json", "attack-invoke-deep-nesting", {
        let mut out = br#"{"t":"invoke","id":1,"ch":"fuzz:untagged","args":"#.to_vec();
        out.extend_from_slice(&deep_json);
        out.push(b'}');
        out
    });
    corpus.add(
        "frame_json",
        "attack-duplicate-fields",
        br#"{"t":"invoke","id":1,"id":2,"ch":"a:b","args":[]}"#.to_vec(),
    );
    corpus.add(
        "frame_json",
        "attack-id-overflow",
        br#"{"t":"invoke","id":18446744073709551616,"ch":"a:b","args":[],"timeout_ms":1e400}"#
            .to_vec(),
    );
    corpus.add(
        "frame_json",
        "attack-bridge-sender",
        br#"{"t":"send","ch":"fuzz:note","args":["x",{"t":"Unit"}],"sender":{"id":3,"url":"file:///x","origin":"file://"}}"#
            .to_vec(),
    );

    // Handshakes.
    let contracts: serde_json::Map<String, serde_json::Value> = (0..200)
        .map(|i| (format!("ns{i}"), json!("0123456789abcdef")))
        .collect();
    corpus.add(
        "handshake",
        "attack-many-contracts",
        json_frame(
            json!({"t":"hello","protocol":1,"role":"renderer","codec":"json",
            "contracts": contracts}),
        ),
    );
    corpus.add("handshake", "attack-deep-nesting", {
        let mut out =
            br#"{"t":"hello","protocol":1,"role":"renderer","codec":"json","contracts":{},"x":"#
                .to_vec();
        out.extend_from_slice(&deep_json);
        out.push(b'}');
        out
    });
    corpus.add(
        "handshake",
        "attack-wrong-role",
        json_frame(json!({"t":"hello","protocol":1,"role":"main","codec":"json","contracts":{}})),
    );
    corpus.add(
        "handshake",
        "attack-other-protocol",
        json_frame(
            json!({"t":"hello","protocol":2,"role":"renderer","codec":"cbor",
            "contracts":{"fuzz":"x"},"max_frame":0,"max_message":u64::MAX}),
        ),
    );

    // Streams (header: a read size of 1, then one of 120).
    let stream = |frames: &[Vec<u8>]| {
        let mut out = vec![0x80, 7];
        for frame in frames {
            out.extend_from_slice(&framed(frame));
        }
        out
    };
    corpus.add("stream", "attack-length-prefix-4g", {
        let mut out = vec![0x80, 7];
        out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
        out
    });
    corpus.add("stream", "attack-printed-text", {
        let mut out = vec![0x80, 7];
        out.extend_from_slice(b"hello from a renderer that logs to stdout\n");
        out
    });
    corpus.add(
        "stream",
        "attack-chunk-total-4g",
        stream(&[chunk(1, u32::MAX, 0, b"data"), b"{}".to_vec()]),
    );
    corpus.add(
        "stream",
        "attack-17-partial-messages",
        stream(
            &(0..17)
                .map(|id| chunk(id, 1000, 0, b"x"))
                .collect::<Vec<_>>(),
        ),
    );
    corpus.add(
        "stream",
        "attack-chunk-offset-gap",
        stream(&[chunk(1, 100, 0, b"abc"), chunk(1, 100, 50, b"def")]),
    );
    corpus.add(
        "stream",
        "attack-chunk-total-changes",
        stream(&[chunk(1, 100, 0, b"abc"), chunk(1, 90, 3, b"def")]),
    );
    corpus.add(
        "stream",
        "attack-chunks-interleaved",
        stream(&[
            chunk(1, 6, 0, b"{\"t\""),
            chunk(2, 4, 0, b"[1,"),
            b"{}".to_vec(),
            chunk(2, 4, 3, b"]"),
            chunk(1, 6, 4, b":1"),
        ]),
    );

    // Sessions.
    let binary = 1 | 4;
    let json_small = 4;
    corpus.add(
        "session",
        "attack-msgpack-amplification",
        session_input(binary, &{
            // In chunks: the attack is larger than main's max_frame.
            let frame = bin_invoke(1, "fuzz:internal", &amplification);
            let total = frame.len() as u32;
            frame
                .chunks(200)
                .enumerate()
                .map(|(i, part)| chunk(1, total, (i * 200) as u32, part))
                .collect::<Vec<_>>()
        }),
    );
    corpus.add(
        "session",
        "attack-in-flight-deadlines-cancels",
        session_input(
            binary,
            &[
                bin_invoke_timeout(1, "fuzz:wait", 10, &[0x91, 0xcd, 0x03, 0xe8]),
                bin_invoke_timeout(2, "fuzz:wait", 0, &[0x91, 0x64]),
                bin_invoke(3, "fuzz:wait", &[0x91, 0x32]),
                bin_invoke(4, "fuzz:wait", &[0x91, 0x32]),
                bin_invoke(5, "fuzz:wait", &[0x91, 0x32]),
                bin_invoke(3, "fuzz:wait", &[0x91, 0x32]),
                bin_cancel(3),
                bin_cancel(99),
                bin_invoke(6, "fuzz:emit", &[0x92, 0x08, 0xa2, b'e', b'v']),
                bin_invoke(7, "fuzz:panics", &[0x91, 0xc3]),
            ],
        ),
    );
    corpus.add(
        "session",
        "attack-event-flood-disconnect",
        session_input(
            json_small | 8,
            &[json_frame(
                json!({"t":"invoke","id":1,"ch":"fuzz:emit","args":[8, {"id":1,"name":"x"}]}),
            )],
        ),
    );
    corpus.add(
        "session",
        "attack-frames-main-never-takes",
        session_input(
            json_small,
            &[
                json_frame(json!({"t":"lag","ch":"fuzz:changed","missed":3})),
                json_frame(json!({"t":"reply","id":1,"ok":null})),
                json_frame(json!({"t":"event","ch":"fuzz:changed","args":[1]})),
                json_frame(json!({"t":"hello","protocol":1,"role":"renderer","codec":"json"})),
                json_frame(json!({"t":"bogus"})),
                json_frame(json!({"t":"invoke","id":2,"ch":"fuzz:nothing","args":[],
                    "sender":{"id":1}})),
                json_frame(json!({"t":"ping","id":5})),
                json_frame(json!({"t":"goodbye","reason":"done"})),
            ],
        ),
    );
    corpus.add(
        "session",
        "attack-bridge-windows",
        session_input(
            json_small | 2,
            &[
                json_frame(json!({"t":"invoke","id":1,"ch":"fuzz:wait","args":[100],
                    "sender":{"id":7,"url":"file:///a.html","origin":"file://"}})),
                json_frame(
                    json!({"t":"send","ch":"fuzz:note","args":["x",{"t":"Unit"}],
                    "sender":{"id":8}}),
                ),
                json_frame(json!({"t":"detach","sender":7})),
                json_frame(json!({"t":"invoke","id":2,"ch":"fuzz:emit",
                    "args":[2, "x"],"sender":{"id":8}})),
            ],
        ),
    );
    corpus.add(
        "session",
        "attack-chunk-total-above-max-message",
        session_input(
            binary,
            &[
                chunk(1, 1 << 20, 0, b"x"),
                chunk(2, 300, 0, &[0u8; 200]),
                bin_invoke(1, "fuzz:nothing", &[0x90]),
            ],
        ),
    );
    corpus.add(
        "session",
        "attack-text-instead-of-frames",
        b"\x00hello from a renderer that logs to stdout\n".to_vec(),
    );
}
