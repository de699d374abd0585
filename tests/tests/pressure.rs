//! Backpressure across a byte stream: a pipe narrower than one frame, a renderer that holds two
//! frames at most, and many concurrent calls (large and small arguments and answers) with sends
//! in between. Every write on both sides has to wait for the other side to read, over and over:
//! every call still gets its own answer, and the sends arrive in order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipc_runtime::{ByteStream, Bytes, Caller, Codec, IpcError, Main, Renderer, RendererOptions};

#[ipc_runtime::channels(namespace = "pressure")]
pub trait Pressure {
    /// Returns `data` reversed.
    async fn reverse(&self, data: Bytes) -> Bytes;
    /// Records `n`.
    #[send]
    fn note(&self, n: u32);
    /// The numbers recorded so far.
    async fn notes(&self) -> Vec<u32>;
}

#[derive(Default)]
struct Backend {
    notes: Mutex<Vec<u32>>,
}

impl PressureHandler for Backend {
    async fn reverse(&self, _caller: &Caller, data: Bytes) -> Bytes {
        data.iter().rev().copied().collect::<Vec<u8>>().into()
    }

    async fn note(&self, _caller: &Caller, n: u32) {
        self.notes.lock().unwrap().push(n);
    }

    async fn notes(&self, _caller: &Caller) -> Vec<u32> {
        self.notes.lock().unwrap().clone()
    }
}

fn data(len: usize, seed: u32) -> Bytes {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(7).wrapping_add(seed) as u8)
        .collect::<Vec<u8>>()
        .into()
}

async fn narrow_connection(codec: Codec) -> (Main, PressureClient) {
    let main = Main::new();
    let _registration = Pressure::handle(&main, Arc::new(Backend::default())).unwrap();
    let (main_side, renderer_side) = tokio::io::duplex(1024);
    let (main_read, main_write) = tokio::io::split(main_side);
    let (renderer_read, renderer_write) = tokio::io::split(renderer_side);
    let accepted = tokio::spawn({
        let main = main.clone();
        async move { main.accept(ByteStream::new(main_read, main_write)).await }
    });
    let options = RendererOptions::new("narrow")
        .codec(codec)
        .queue_capacity(2);
    let renderer = Renderer::connect(ByteStream::new(renderer_read, renderer_write), options)
        .await
        .expect("connect");
    accepted.await.unwrap().expect("accept");
    (main, Pressure::client(&renderer))
}

async fn every_call_completes_through_a_narrow_pipe(codec: Codec) {
    let (_main, client) = narrow_connection(codec).await;
    let sizes = [0, 10, 900, 5_000, 70_000, 200_000];
    let calls: Vec<_> = (0..48u32)
        .map(|i| {
            let client = client.clone();
            let sent = data(sizes[i as usize % sizes.len()], i);
            tokio::spawn(async move {
                let answer = client.reverse(sent.clone()).await;
                (sent, answer)
            })
        })
        .collect();
    // A send never waits: with the queue full it is refused, and the sender tries again.
    let mut refused = 0;
    for n in 0..200 {
        loop {
            match client.note(n) {
                Ok(()) => break,
                Err(IpcError::TooManyInFlight { limit: 2 }) => {
                    refused += 1;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(other) => panic!("send {n}: {other}"),
            }
        }
    }
    assert!(
        refused > 0,
        "the queue never filled: this test exercises nothing"
    );
    for call in calls {
        let (sent, answer) = tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("a call did not complete")
            .unwrap();
        let expected: Bytes = sent.iter().rev().copied().collect::<Vec<u8>>().into();
        assert_eq!(answer, Ok(expected), "a call of {} bytes", sent.len());
    }
    let notes = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let notes = client.notes().await.unwrap();
            if notes.len() >= 200 {
                return notes;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the sends did not all arrive");
    assert_eq!(notes, (0..200).collect::<Vec<u32>>(), "sends in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_calls_and_sends_through_a_narrow_pipe() {
    every_call_completes_through_a_narrow_pipe(Codec::Binary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_calls_and_sends_through_a_narrow_pipe() {
    every_call_completes_through_a_narrow_pipe(Codec::Json).await;
}

/// A main that completes the handshake and then never reads: the pipe and the renderer's outbox
/// fill up, and calls that cannot even be queued still end at their deadline, with `Timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_a_main_that_stops_reading_end_at_their_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (main_side, renderer_side) = tokio::io::duplex(1024);
    let (mut main_read, mut main_write) = tokio::io::split(main_side);
    let silent_main = tokio::spawn(async move {
        let mut prefix = [0u8; 4];
        main_read.read_exact(&mut prefix).await.unwrap();
        let mut hello = vec![0u8; u32::from_be_bytes(prefix) as usize];
        main_read.read_exact(&mut hello).await.unwrap();
        let answer = serde_json::to_vec(&serde_json::json!({
            "t": "hello",
            "protocol": ipc_runtime::PROTOCOL_VERSION,
            "role": "main",
            "codec": "binary",
            "contracts": {},
            "renderer": 1,
        }))
        .unwrap();
        main_write
            .write_all(&(answer.len() as u32).to_be_bytes())
            .await
            .unwrap();
        main_write.write_all(&answer).await.unwrap();
        // Holds both halves and reads nothing more.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop((main_read, main_write));
    });
    let (renderer_read, renderer_write) = tokio::io::split(renderer_side);
    let limit = Duration::from_millis(300);
    let options = RendererOptions::new("unheard")
        .queue_capacity(1)
        .default_timeout(limit);
    let renderer = Renderer::connect(ByteStream::new(renderer_read, renderer_write), options)
        .await
        .expect("connect");
    let client = Pressure::client(&renderer);
    let calls: Vec<_> = (0..12u32)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.reverse(data(4096, i)).await })
        })
        .collect();
    for call in calls {
        let outcome = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("a call outlived its deadline")
            .unwrap();
        assert_eq!(
            outcome,
            Err(IpcError::Timeout {
                channel: Pressure::REVERSE.name().into(),
                after: limit
            })
        );
    }
    silent_main.abort();
}
