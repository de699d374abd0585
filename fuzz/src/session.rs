//! The `session` target's driver: one renderer connection to a real [`Main`] over an in-memory
//! pipe, the renderer's side written by the fuzzer after a valid hello.
//!
//! Input: one option byte, then the bytes the renderer writes after its hello (frames of the
//! chosen codec, chunks, garbage). Option bits: 0 codec (binary when set, else JSON), 1 a bridge
//! (`Main::accept_bridge` and `"role":"bridge"`), 2 a small renderer (`max_frame` 256,
//! `max_message` 8192, so main chunks its replies), 3 `EventOverflow::Disconnect`, 4 a pipe of
//! 64 bytes (backpressure both ways).
//!
//! Main must never panic (the target's panic hook aborts on any panic but the backend's
//! deliberate ones), must close or go quiet within the budget, and every frame it writes after
//! its hello must fit the renderer's announced `max_frame`.

use std::sync::{Once, OnceLock};
use std::time::Duration;

use ipc_runtime::{ByteStream, EventOverflow, Main};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

use crate::contract::{Backend, DELIBERATE_PANIC, Fuzz};

/// Main's limits in the session (and the limits the `stream` target reads with).
pub const MAIN_MAX_FRAME: usize = 256;
/// The largest message main accepts in the session.
pub const MAIN_MAX_MESSAGE: usize = 4096;
/// The small renderer's `max_frame` (option bit 2).
pub const SMALL_MAX_FRAME: usize = 256;
/// The small renderer's `max_message` (option bit 2).
pub const SMALL_MAX_MESSAGE: usize = 8192;

/// How long (Tokio's paused clock: it jumps ahead whenever every task waits) a session may take.
const BUDGET: Duration = Duration::from_millis(200);
/// The most bytes of main's answers read per session.
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// The session's options, from its first byte.
#[derive(Debug, Clone, Copy)]
pub struct Options(pub u8);

impl Options {
    /// Binary codec (else JSON).
    pub fn binary(self) -> bool {
        self.0 & 1 != 0
    }
    /// A bridge connection.
    pub fn bridge(self) -> bool {
        self.0 & 2 != 0
    }
    /// A renderer with small limits.
    pub fn small(self) -> bool {
        self.0 & 4 != 0
    }
    /// Disconnect renderers that fall behind on events.
    pub fn disconnect_on_overflow(self) -> bool {
        self.0 & 8 != 0
    }
    /// A 64-byte pipe.
    pub fn tiny_pipe(self) -> bool {
        self.0 & 16 != 0
    }
    /// The `max_frame` the renderer announces.
    pub fn renderer_max_frame(self) -> usize {
        if self.small() {
            SMALL_MAX_FRAME
        } else {
            ipc_runtime::DEFAULT_MAX_FRAME
        }
    }
    /// The `max_message` the renderer announces.
    pub fn renderer_max_message(self) -> usize {
        if self.small() {
            SMALL_MAX_MESSAGE
        } else {
            ipc_runtime::DEFAULT_MAX_MESSAGE
        }
    }
}

/// The process's one runtime: current-thread, on a paused clock (timers fire as soon as every
/// task waits, so deadlines and the budget cost no real time).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a Tokio runtime")
    })
}

/// Lets the backend's deliberate panics unwind to main's `catch_unwind`; any other panic goes
/// to the hook installed before (libFuzzer's, which aborts: a crash).
pub fn allow_deliberate_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() == Some(&DELIBERATE_PANIC) {
                return;
            }
            previous(info);
        }));
    });
}

/// The renderer's hello for a session with `options`.
pub fn hello(options: Options) -> Vec<u8> {
    let body = serde_json::json!({
        "t": "hello",
        "protocol": ipc_runtime::PROTOCOL_VERSION,
        "role": if options.bridge() { "bridge" } else { "renderer" },
        "codec": if options.binary() { "binary" } else { "json" },
        "contracts": { "fuzz": Fuzz::contract_hash() },
        "label": "fuzz",
        "max_frame": options.renderer_max_frame(),
        "max_message": options.renderer_max_message(),
    });
    framed(&serde_json::to_vec(&body).expect("JSON"))
}

/// A length prefix, then `body`.
pub fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len())
        .expect("a frame below 4 GiB")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(body);
    out
}

/// The main a session talks to: small limits so that every bound is reached by small inputs.
pub fn main_for(options: Options) -> Main {
    Main::builder()
        .max_frame_size(MAIN_MAX_FRAME)
        .max_message_size(MAIN_MAX_MESSAGE)
        .max_in_flight(4)
        .queue_capacity(4)
        .max_sends_running(2)
        .handshake_timeout(Duration::from_millis(50))
        .event_overflow(if options.disconnect_on_overflow() {
            EventOverflow::Disconnect
        } else {
            EventOverflow::Notify
        })
        .build()
}

/// Runs one session on `input` (see the module's documentation).
pub fn run(input: &[u8]) {
    allow_deliberate_panics();
    let Some((&options, stream)) = input.split_first() else {
        return;
    };
    runtime().block_on(session(Options(options), stream));
}

async fn session(options: Options, stream: &[u8]) {
    let main = main_for(options);
    let registration = Fuzz::handle(&main, Backend { main: main.clone() }).expect("handlers");
    let (ours, theirs) = tokio::io::duplex(if options.tiny_pipe() { 64 } else { 64 * 1024 });
    let (their_read, their_write) = tokio::io::split(theirs);
    let accept = tokio::spawn({
        let main = main.clone();
        async move {
            let transport = ByteStream::new(their_read, their_write).peer("fuzz");
            if options.bridge() {
                main.accept_bridge(transport).await
            } else {
                main.accept(transport).await
            }
        }
    });
    let (mut read, mut write) = tokio::io::split(ours);
    let mut input = hello(options);
    input.extend_from_slice(stream);
    let writer = async move {
        // Main may close before it read everything: a write error ends the writing.
        if write.write_all(&input).await.is_ok() {
            let _ = write.shutdown().await;
        }
        // Keep the write half (an open pipe) until the reader is done.
        write
    };
    let reader = async move {
        let mut answers = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        while answers.len() < MAX_ANSWER_BYTES {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answers.extend_from_slice(&buf[..n]),
            }
        }
        answers
    };
    let answers = match tokio::time::timeout(BUDGET, async { tokio::join!(writer, reader) }).await {
        Ok((_write, answers)) => Some(answers),
        // Main neither closed nor stopped talking within the budget (it may wait for more input
        // on a half-closed pipe: a renderer's EOF with listeners still running, say).
        Err(_) => None,
    };
    main.shutdown();
    let _ = registration.remove();
    // Every task of the session ends within the budget once main shut down.
    let _ = tokio::time::timeout(BUDGET, accept).await;
    drop(main);
    tokio::time::sleep(Duration::from_millis(1)).await;
    if let Some(answers) = answers {
        check_answers(options, &answers);
    }
}

/// Main's frames after its hello fit the renderer's `max_frame`.
fn check_answers(options: Options, answers: &[u8]) {
    let mut at = 0;
    let mut first = true;
    while let Some(prefix) = answers.get(at..at + 4) {
        let len = u32::from_be_bytes(prefix.try_into().expect("4 bytes")) as usize;
        at += 4;
        if first {
            assert!(
                answers.get(at) == Some(&b'{'),
                "main's first frame is not JSON: {:?}",
                &answers[at..answers.len().min(at + 32)]
            );
        } else {
            assert!(
                len <= options.renderer_max_frame(),
                "main wrote a frame of {len} bytes to a renderer whose max_frame is {}",
                options.renderer_max_frame()
            );
        }
        first = false;
        at += len;
    }
}
