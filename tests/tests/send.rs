//! Send (fire-and-forget, renderer to main) end to end: the generated client reaches the
//! generated listener with the caller, sends from one renderer arrive in order, and every
//! listener of a channel receives each send.

mod common;

use common::{TodoBackend, Todos, within};
use ipc_runtime::{Main, NoArgs, RendererOptions, SendChannel};
use tokio::sync::mpsc;

/// A channel outside the contract, used to know when main has handled earlier sends.
const SENTINEL: SendChannel<NoArgs> = SendChannel::new("test:sentinel");

#[tokio::test]
async fn a_send_reaches_the_generated_listener_with_its_caller() {
    let main = Main::new();
    let (backend, mut log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("window"));
    let client = Todos::client(&renderer);

    assert_eq!(client.log("hello".into()), Ok(()));
    let (caller, line) = within("the log line", log.recv()).await.unwrap();
    assert_eq!(line, "hello");
    assert_eq!(caller.label(), "window");
    assert_eq!(caller.renderer(), renderer.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_sends_from_one_renderer_arrive_in_order() {
    let main = Main::new();
    let (backend, mut log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("window")));

    for i in 0..100 {
        client.log(format!("line {i}")).unwrap();
    }
    let mut received = Vec::new();
    while received.len() < 100 {
        let (_, line) = within("100 log lines", log.recv()).await.unwrap();
        received.push(line);
    }
    let expected: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
    assert_eq!(received, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_from_two_renderers_each_keep_their_own_order() {
    let main = Main::new();
    let (backend, mut log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    let a = main.connect_in_process(RendererOptions::new("a"));
    let b = main.connect_in_process(RendererOptions::new("b"));
    let (client_a, client_b) = (Todos::client(&a), Todos::client(&b));

    for i in 0..100 {
        client_a.log(format!("{i}")).unwrap();
        client_b.log(format!("{i}")).unwrap();
    }
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    while from_a.len() + from_b.len() < 200 {
        let (caller, line) = within("200 log lines", log.recv()).await.unwrap();
        let n: u32 = line.parse().unwrap();
        if caller.renderer() == a.id() {
            from_a.push(n);
        } else {
            assert_eq!(caller.renderer(), b.id());
            from_b.push(n);
        }
    }
    let expected: Vec<u32> = (0..100).collect();
    assert_eq!(from_a, expected);
    assert_eq!(from_b, expected);
}

#[tokio::test]
async fn every_listener_of_a_channel_receives_each_send_in_registration_order() {
    let main = Main::new();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for who in ["first", "second", "third"] {
        let tx = tx.clone();
        main.on(Todos::LOG, move |_caller, (line,)| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((who, line));
            }
        });
    }
    assert_eq!(main.listener_count(Todos::LOG.name()), 3);
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("window")));

    client.log("one".into()).unwrap();
    client.log("two".into()).unwrap();
    let mut received = Vec::new();
    while received.len() < 6 {
        received.push(within("six deliveries", rx.recv()).await.unwrap());
    }
    let expected: Vec<(&str, String)> = ["one", "two"]
        .into_iter()
        .flat_map(|line| ["first", "second", "third"].map(|who| (who, line.to_string())))
        .collect();
    assert_eq!(received, expected);
}

#[tokio::test]
async fn a_send_nobody_listens_to_is_dropped_and_later_sends_still_arrive() {
    let main = Main::new();
    let client = Todos::client(&main.connect_in_process(RendererOptions::new("window")));
    assert_eq!(client.log("into the void".into()), Ok(()));
    // Sends from one renderer are handled in order whatever their channel, so once the sentinel
    // is heard, main has handled (and dropped) the unheard line.
    let (handled_tx, mut handled) = mpsc::unbounded_channel();
    main.once(SENTINEL, move |_, _| {
        let handled_tx = handled_tx.clone();
        async move {
            let _ = handled_tx.send(());
        }
    });
    client.renderer().send(SENTINEL, NoArgs).unwrap();
    within("the sentinel", handled.recv()).await.unwrap();

    let (backend, mut log) = TodoBackend::new();
    let _registration = Todos::handle(&main, backend).unwrap();
    client.log("heard".into()).unwrap();
    let (_, line) = within("the second line", log.recv()).await.unwrap();
    assert_eq!(line, "heard");
}
