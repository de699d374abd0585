//! Ports, streams and requests from main across a real Unix socket, and the races of handing a
//! pair's ends to connections.

mod common;

use futures_util::StreamExt;
use ipc_runtime::{InvokeChannel, Main, Never, Port, Renderer, RendererOptions, Stream};

const COUNT: InvokeChannel<(u32,), Stream<u32>, Never> = InvokeChannel::new("t:count");
const SUM: InvokeChannel<(Stream<u32>,), u64, Never> = InvokeChannel::new("t:sum");
const ECHO: InvokeChannel<(), Port<String, String>, Never> = InvokeChannel::new("t:echo");
const ASK: InvokeChannel<(u32,), u32, Never> = InvokeChannel::new("t:ask");

fn socket(name: &str) -> std::path::PathBuf {
    common::socket_path(&format!("ports-{name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_a_sum_a_port_and_a_request_over_a_socket() {
    let main = Main::new();
    let mut batch = main.registration();
    batch.invoke(COUNT, |_caller, (n,): (u32,)| async move {
        Ok::<_, Never>(Stream::from_iter(0..n))
    });
    batch.invoke(SUM, |_caller, (items,): (Stream<u32>,)| async move {
        let mut items = items;
        let mut total = 0u64;
        while let Some(item) = items.next().await {
            total += u64::from(item.unwrap());
        }
        Ok::<_, Never>(total)
    });
    batch.invoke(ECHO, |_caller, ()| async move {
        let (mine, theirs) = Port::<String, String>::pair();
        tokio::spawn(async move {
            while let Some(Ok(line)) = mine.recv().await {
                if mine.send(line.to_uppercase()).await.is_err() {
                    break;
                }
            }
        });
        Ok::<_, Never>(theirs)
    });
    let _registration = batch.commit().unwrap();
    let path = socket("basic");
    let listener = main.listen_unix(&path).unwrap();
    let renderer = Renderer::connect_unix(listener.path(), RendererOptions::new("r"))
        .await
        .unwrap();

    let stream = renderer.invoke(COUNT, (1000,)).await.unwrap();
    let items: Vec<u32> = stream.map(|i| i.unwrap()).collect().await;
    assert_eq!(items, (0..1000).collect::<Vec<_>>());

    let total = renderer
        .invoke(SUM, (Stream::from_iter(1..=100u32),))
        .await
        .unwrap();
    assert_eq!(total, 5050);

    let port = renderer.invoke(ECHO, ()).await.unwrap();
    for word in ["a", "bc", "def"] {
        port.send(word.to_string()).await.unwrap();
        assert_eq!(port.recv().await, Some(Ok(word.to_uppercase())));
    }
    drop(port);

    renderer
        .handle_request(ASK, |(n,): (u32,)| async move { Ok::<_, Never>(n + 1) })
        .unwrap();
    assert_eq!(main.request(renderer.id(), ASK, (41,)).await, Ok(42));
    common::eventually("ports closed", || main.open_ports(renderer.id()) == Some(0)).await;
}

/// A contract with a stream result, a stream argument, a port result and a request.
#[ipc_runtime::channels(namespace = "jobs")]
pub trait Jobs {
    /// Progress of a job, 0 to `steps`.
    async fn progress(&self, steps: u32) -> Stream<u32>;
    /// Adds up an upload.
    async fn total(&self, items: Stream<u32>) -> u32;
    /// A chat with main.
    async fn chat(&self) -> Port<String, String>;
    /// Main asks the renderer.
    #[request]
    async fn confirm(&self, question: String) -> bool;
}

struct JobsBackend;

impl JobsHandler for JobsBackend {
    async fn progress(&self, _caller: &ipc_runtime::Caller, steps: u32) -> Stream<u32> {
        Stream::from_iter(0..=steps)
    }
    async fn total(&self, _caller: &ipc_runtime::Caller, items: Stream<u32>) -> u32 {
        items
            .map(|i| i.unwrap())
            .fold(0, |a, b| async move { a + b })
            .await
    }
    async fn chat(&self, _caller: &ipc_runtime::Caller) -> Port<String, String> {
        let (mine, theirs) = Port::<String, String>::pair();
        tokio::spawn(async move {
            while let Some(Ok(line)) = mine.recv().await {
                let _ = mine.send(line.to_uppercase()).await;
            }
        });
        theirs
    }
}

struct Confirmer;

impl JobsRendererHandler for Confirmer {
    async fn confirm(&self, question: String) -> bool {
        question.ends_with('?')
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_contract_carries_streams_ports_and_requests() {
    let main = Main::new();
    let _ = Jobs::handle(&main, JobsBackend).unwrap();
    let path = socket("generated");
    let listener = main.listen_unix(&path).unwrap();
    let renderer = Renderer::connect_unix(
        listener.path(),
        RendererOptions::new("r").contract(Jobs::schema()),
    )
    .await
    .unwrap();
    let jobs = Jobs::client(&renderer);
    let steps: Vec<u32> = jobs
        .progress(3)
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(steps, [0, 1, 2, 3]);
    assert_eq!(jobs.total(Stream::from_iter([5, 6])).await, Ok(11));
    let chat = jobs.chat().await.unwrap();
    chat.send("hi".into()).await.unwrap();
    assert_eq!(chat.recv().await, Some(Ok("HI".to_string())));
    Jobs::handle_requests(&renderer, Confirmer).unwrap();
    let asked = Jobs::renderer_client(&main, renderer.id());
    assert_eq!(asked.confirm("ready?".into()).await, Ok(true));
    let schema = Jobs::schema();
    let kinds: Vec<_> = schema
        .methods
        .iter()
        .map(|m| (m.js_name.clone(), m.kind.as_str()))
        .collect();
    println!(
        "{kinds:?} {:?}",
        schema
            .methods
            .iter()
            .map(|m| m.output.as_ref().map(|o| o.ts.clone()))
            .collect::<Vec<_>>()
    );
}

/// A clone waiting to receive wakes (and sees the port closed) when another clone of the same
/// end closes it, a thousand times over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_waiting_to_receive_sees_another_clone_close_the_end() {
    for _ in 0..1000 {
        let (here, _there) = Port::<u32, u32>::pair();
        let reader = here.clone();
        let waiting = tokio::spawn(async move { reader.recv().await });
        tokio::task::yield_now().await;
        here.close();
        let received = common::within("the waiting clone", waiting).await.unwrap();
        assert_eq!(received, None);
    }
}

const MEET: InvokeChannel<(), Port<String, String>, Never> = InvokeChannel::new("t:meet");

/// Main makes a pair and hands its two ends to two renderers at the same moment (two
/// connections encode their replies on two threads at once): the renderers still talk to each
/// other, both ways, and a close reaches the other one, two thousand times over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ends_of_one_pair_handed_out_at_once_still_talk() {
    let main = Main::new();
    let waiting = std::sync::Arc::new(std::sync::Mutex::new(None::<Port<String, String>>));
    let mut batch = main.registration();
    batch.invoke(MEET, move |_caller, ()| {
        let waiting = waiting.clone();
        async move {
            let mut waiting = waiting.lock().unwrap();
            Ok::<_, Never>(match waiting.take() {
                Some(end) => end,
                None => {
                    let (first, second) = Port::pair();
                    *waiting = Some(second);
                    first
                }
            })
        }
    });
    let _registration = batch.commit().unwrap();
    let path = socket("meet");
    let listener = main.listen_unix(&path).unwrap();
    let one = Renderer::connect_unix(listener.path(), RendererOptions::new("one"))
        .await
        .unwrap();
    let two = Renderer::connect_unix(listener.path(), RendererOptions::new("two"))
        .await
        .unwrap();
    for round in 0..2000 {
        let (a, b) = tokio::join!(one.invoke(MEET, ()), two.invoke(MEET, ()));
        let (a, b) = (a.unwrap(), b.unwrap());
        a.send(format!("ping {round}")).await.unwrap();
        let got = common::within("the ping", b.recv()).await;
        assert_eq!(got, Some(Ok(format!("ping {round}"))), "round {round}");
        b.send(format!("pong {round}")).await.unwrap();
        let got = common::within("the pong", a.recv()).await;
        assert_eq!(got, Some(Ok(format!("pong {round}"))), "round {round}");
        if round % 2 == 0 {
            a.close();
            assert_eq!(common::within("the close", b.recv()).await, None);
        } else {
            b.close();
            assert_eq!(common::within("the close", a.recv()).await, None);
        }
    }
    common::eventually("ports closed", || {
        main.open_ports(one.id()) == Some(0) && main.open_ports(two.id()) == Some(0)
    })
    .await;
}

const LONELY: InvokeChannel<(), Port<String, String>, Never> = InvokeChannel::new("t:lonely");

/// Main hands out one end of a pair while another task drops the other end (the close racing
/// the transfer): the renderer always sees its port close, two thousand times over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_handed_out_while_its_partner_is_dropped_sees_the_close() {
    let main = Main::new();
    let mut batch = main.registration();
    batch.invoke(LONELY, |_caller, ()| async move {
        let (mine, theirs) = Port::<String, String>::pair();
        tokio::spawn(async move { drop(mine) });
        Ok::<_, Never>(theirs)
    });
    let _registration = batch.commit().unwrap();
    let path = socket("lonely");
    let listener = main.listen_unix(&path).unwrap();
    let renderer = Renderer::connect_unix(listener.path(), RendererOptions::new("r"))
        .await
        .unwrap();
    for _ in 0..2000 {
        let port = renderer.invoke(LONELY, ()).await.unwrap();
        assert_eq!(common::within("the close", port.recv()).await, None);
    }
    common::eventually("ports closed", || main.open_ports(renderer.id()) == Some(0)).await;
}
