//! Capabilities under load and abuse, over a real Unix socket with main and the renderer in this
//! process (so main's port table and the objects can be watched): a renderer that hoards handles
//! past its port limit gets `too_many_ports` while every other call and renderer is served, and
//! one that reads no answers holds its object's calls back (a raw peer that grants no credit). A
//! hundred thousand handles made and dropped are `capability_churn.rs`'s; the per-transport cases
//! (calls, release, revoke, transfer, callbacks, a killed holder) are in `conformance.rs`.

mod common;

use std::future::{Future, IntoFuture};
use std::time::Duration;

use common::on_socket::OnSocket;
use common::within;
use ipc_runtime::{IpcError, Main, Renderer, RendererOptions};
use ipc_tests::{Conformance, ConformanceBackend};

/// A renderer that keeps every handle it gets reaches its port limit: the next handle cannot be
/// handed over (main answers `encode`, naming the limit, and releases that object at once), its
/// other calls are served, and so is another renderer; letting handles go makes room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoarding_handles_past_the_port_limit_is_refused_and_harms_nobody() {
    const LIMIT: usize = 64;
    let main = Main::builder().max_ports(LIMIT).build();
    let served = OnSocket::serve(&main, "capability-hoard");
    let state = &served.state;
    let hoarder = served.connect("hoarder").await;
    let hoarding = Conformance::client(&hoarder);
    let mut held = Vec::new();
    let refused = loop {
        match within("counter", hoarding.counter(0)).await {
            Ok(handle) => held.push(handle),
            Err(error) => break error,
        }
        assert!(held.len() <= LIMIT, "the limit of {LIMIT} ports holds");
    };
    assert_eq!(held.len(), LIMIT);
    assert!(
        matches!(&refused, IpcError::Encode { reason } if reason.contains("too many ports open (limit 64)")),
        "{refused:?}"
    );
    within("the refused object's release", async {
        while state.counter_stats().live as usize > LIMIT {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // The hoarder's handles still work, and so do its other calls and another renderer's.
    let first = held[0].clone().client();
    assert_eq!(within("add", first.add(5)).await, Ok(5));
    assert_eq!(within("next", hoarding.next()).await, Ok(1));
    let other = served.connect("other").await;
    let counter = within("counter", Conformance::client(&other).counter(7))
        .await
        .unwrap()
        .client();
    assert_eq!(within("add", counter.add(1)).await, Ok(8));
    // Letting handles go makes room.
    held.truncate(LIMIT - 1);
    drop(first);
    let again = within("counter after a release", async {
        loop {
            match hoarding.counter(3).await {
                Ok(handle) => break handle,
                Err(IpcError::Encode { .. }) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(error) => panic!("{error}"),
            }
        }
    })
    .await
    .client();
    assert_eq!(within("add", again.add(1)).await, Ok(4));
}

/// A directory: a capability that hands out handles of its own kind.
#[ipc_runtime::channels(namespace = "dir", capability)]
pub trait Dir {
    /// The child directory `name`, one level deeper.
    async fn child(&self, name: String) -> ipc_runtime::Handle<Dir>;
    /// The path from the root.
    async fn path(&self) -> String;
}

struct Node(String);

impl DirHandler for Node {
    async fn child(&self, name: String) -> ipc_runtime::Handle<Dir> {
        Dir::serve(Node(format!("{}/{name}", self.0)))
    }

    async fn path(&self) -> String {
        self.0.clone()
    }
}

/// Sixty-four callers on one handle over a Unix socket: every answer reaches its call promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_callers_on_one_handle_each_get_their_answer_promptly() {
    let main = Main::new();
    let served = OnSocket::serve(&main, "capability-callers");
    many_callers(&served.connect("callers").await).await;
}

/// The same in one process, where a call is offered to the object in the caller's own task
/// (outside the port's locks), concurrently from both workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_callers_on_one_handle_in_process_each_get_their_answer_promptly() {
    let main = Main::new();
    let (_state, _registration) = ConformanceBackend::serve(&main).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("callers"));
    many_callers(&renderer).await;
}

async fn many_callers(renderer: &Renderer) {
    let counter = within("counter", Conformance::client(renderer).counter(0))
        .await
        .unwrap()
        .client();
    for _round in 0..10 {
        let callers: Vec<_> = (0..64)
            .map(|_| {
                let counter = counter.clone();
                tokio::spawn(async move {
                    for _ in 0..50 {
                        // No deadline of its own: a call whose answer nobody reads would wait
                        // until something else happened to read the port. The outer timer
                        // bounds the wait (its wake-up polls the call, which then reads); the
                        // time taken tells.
                        let call = counter.add(1).no_timeout();
                        let started = std::time::Instant::now();
                        let outcome = tokio::time::timeout(Duration::from_secs(3), call).await;
                        let took = started.elapsed();
                        assert!(
                            took < Duration::from_millis(2500),
                            "an answer took {took:?} to reach its call"
                        );
                        match outcome {
                            Ok(Ok(_)) => {}
                            Ok(Err(error)) => panic!("{error}"),
                            Err(_) => panic!("no answer within three seconds"),
                        }
                    }
                })
            })
            .collect();
        for caller in futures_util::future::join_all(callers).await {
            caller.unwrap();
        }
    }
    assert_eq!(within("the total", counter.add(0)).await, Ok(10 * 64 * 50));
}

/// A chain of objects in one process, each of whose calls calls the next through its handle
/// (and the last calls itself): calls are started in the caller's task with no lock held across
/// a handler, so none waits on itself, and past 32 on one thread's stack they go to their
/// object's task, so a chain of a thousand does not overflow the stack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_calling_objects_in_process_nest_without_deadlock() {
    let last = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (tail, _revoker) = Chain::serve_revocable(Link { next: last.clone() });
    *last.lock().unwrap() = Some(tail.clone().client());
    let mut head = tail.client();
    for _ in 0..1000 {
        head = Chain::serve(Link {
            next: std::sync::Arc::new(std::sync::Mutex::new(Some(head))),
        })
        .client();
    }
    // A thousand links, then the tail calls itself until the depth reaches 1010.
    assert_eq!(within("the chain", head.depth(0)).await, Ok(1010));
    let answers =
        futures_util::future::join_all((0..20).map(|_| head.depth(0).into_future())).await;
    assert!(
        answers.iter().all(|answer| *answer == Ok(1010)),
        "{answers:?}"
    );
    // The tail holds a handle to itself: revoked, the cycle is broken.
    _revoker.revoke("done");
    last.lock().unwrap().take();
}

/// Objects that call the next one.
#[ipc_runtime::channels(namespace = "chain", capability)]
pub trait Chain {
    /// The depth at which the chain ends, counting from `n`.
    async fn depth(&self, n: u32) -> u32;
}

struct Link {
    next: std::sync::Arc<std::sync::Mutex<Option<ChainClient>>>,
}

impl ChainHandler for Link {
    async fn depth(&self, n: u32) -> u32 {
        if n >= 1010 {
            return n;
        }
        let next = self.next.lock().unwrap().clone();
        match next {
            Some(next) => next.depth(n + 1).await.unwrap_or(u32::MAX),
            None => n,
        }
    }
}

/// A capability whose methods return its own handles: its schema describes itself without
/// recursing, and the handles it hands out work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capability_hands_out_handles_of_its_own_kind() {
    let child = &Dir::schema().methods[0];
    assert_eq!(child.output.as_ref().unwrap().ts, "IpcHandle<\"dir\">");
    let root = Dir::serve(Node(String::new())).client();
    let usr = within("child", root.child("usr".into()))
        .await
        .unwrap()
        .client();
    let lib = within("child", usr.child("lib".into()))
        .await
        .unwrap()
        .client();
    assert_eq!(within("path", lib.path()).await, Ok("/usr/lib".to_string()));
    // Its schema lists the capabilities it reaches: itself, once, without recursing.
    let reached: Vec<&str> = Dir::schema()
        .capabilities
        .iter()
        .map(|c| c.namespace.as_str())
        .collect();
    assert_eq!(reached, ["dir"]);
    assert!(Dir::schema().capabilities[0].capabilities.is_empty());
}

/// A contract's schema lists every capability its handles reach (returned, taken, in events),
/// for the tools that generate holders; the JSON carries them.
#[test]
fn a_contracts_schema_lists_the_capabilities_it_reaches() {
    let reached: Vec<&str> = Conformance::schema()
        .capabilities
        .iter()
        .map(|c| c.namespace.as_str())
        .collect();
    assert_eq!(reached, ["counter", "sink"]);
    let json: serde_json::Value = serde_json::from_str(&Conformance::schema().to_json()).unwrap();
    let counter = &json["capabilities"][0];
    assert_eq!(counter["namespace"], "counter");
    assert_eq!(counter["methods"][0]["channel"], "counter:add");
}

/// The capabilities a contract reaches are part of its hash (a renderer built against another
/// `Counter` is refused at the handshake, not at its first call through a handle), and a schema
/// read back from JSON is checked against them.
#[test]
fn the_contract_hash_covers_the_capabilities_it_reaches() {
    let schema = Conformance::schema();
    let mut without = schema.clone();
    without.capabilities.clear();
    assert_ne!(
        Conformance::contract_hash(),
        ipc_runtime::schema::hash::contract_hash(&without)
    );
    let canonical = ipc_runtime::schema::hash::canonical_form(schema);
    assert!(
        canonical.contains(&format!(
            "capability counter {}\n",
            ipc_tests::Counter::schema().hash
        )),
        "{canonical}"
    );
    // A capability changed in the JSON (one of its methods renamed) no longer matches the hash.
    let json = schema
        .to_json()
        .replace("\"counter:add\"", "\"counter:plus\"");
    let refused = ipc_runtime::schema::js::read_schemas(&json).unwrap_err();
    assert!(
        refused.to_string().contains("export the schema again"),
        "{refused}"
    );
    assert_eq!(
        ipc_runtime::schema::js::read_schemas(&schema.to_json()).unwrap(),
        vec![schema.clone()]
    );
}

/// A tally: the full capability main keeps or hands to one holder.
#[ipc_runtime::channels(namespace = "tally", capability)]
pub trait Tally {
    /// Adds `by`; returns the new value.
    async fn add(&self, by: i32) -> i32;
}

/// A read-only view of a tally: the narrower capability main mints for a second holder.
#[ipc_runtime::channels(namespace = "tally_view", capability)]
pub trait TallyView {
    /// The value now.
    async fn value(&self) -> i32;
}

/// A tally's state, shared by the full handle and the views minted over it.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::atomic::AtomicI32>);

impl TallyHandler for Shared {
    async fn add(&self, by: i32) -> i32 {
        self.0.fetch_add(by, std::sync::atomic::Ordering::SeqCst) + by
    }
}

impl TallyViewHandler for Shared {
    async fn value(&self) -> i32 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Instead of handing its handle on, main mints a separate, narrower handle over the same
/// object for a second holder: the view sees the full handle's changes, cannot change anything
/// (its contract has no such method), and revoking it leaves the full handle working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_mints_a_narrower_handle_for_a_second_holder() {
    let shared = Shared::default();
    let full = Tally::serve(shared.clone()).client();
    let (view, revoker) = TallyView::serve_revocable(shared.clone());
    let view = view.client();
    assert_eq!(within("add", full.add(5)).await, Ok(5));
    assert_eq!(within("value", view.value()).await, Ok(5));
    assert_eq!(within("add", full.add(-2)).await, Ok(3));
    assert_eq!(within("value", view.value()).await, Ok(3));
    revoker.revoke("the view is withdrawn");
    match within("value", view.value()).await {
        Err(ipc_runtime::CallError::Ipc(IpcError::Revoked { .. })) => {}
        other => panic!("expected Revoked, got {other:?}"),
    }
    assert_eq!(within("add", full.add(1)).await, Ok(4));
}

/// Calls through one handle, each with its own deadline, given in no particular order and mixed
/// with calls that are answered: each stalled call fails with `Timeout` after its own limit (not
/// before, and not only when a longer one passes: the longest is armed first, so the sweeper
/// sleeps until it and each shorter one must wake it earlier), the object cancels each, the
/// answered ones keep their answers; and the sweeper the deadlines started never keeps the
/// handle alive: dropped, it releases its object at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handles_deadlines_fire_each_in_its_time_and_hold_nothing() {
    let main = Main::new();
    let served = OnSocket::serve(&main, "capability-deadlines");
    let renderer = served.connect("deadlines").await;
    let client = Conformance::client(&renderer);
    let counter = within("counter", client.counter(0)).await.unwrap().client();
    let longest = Duration::from_secs(4);
    let started = tokio::time::Instant::now();
    let mut first = Box::pin(counter.stall().timeout(longest).into_future());
    assert!(poll_once(first.as_mut()).await.is_pending());
    let mut stalls = vec![tokio::spawn(async move {
        (longest, first.await, started.elapsed())
    })];
    // Time for the sweeper to look and sleep until the longest deadline (on a machine too slow
    // for that, the test checks less, never wrongly).
    tokio::time::sleep(Duration::from_millis(200)).await;
    for ms in [400, 100, 700, 250, 100, 550, 850, 300] {
        let limit = Duration::from_millis(ms);
        let call = counter.stall().timeout(limit);
        stalls.push(tokio::spawn(async move {
            let outcome = call.await;
            (limit, outcome, started.elapsed())
        }));
    }
    for n in 1..=20 {
        assert_eq!(within("add", counter.add(1)).await, Ok(n));
    }
    let count = stalls.len();
    for stall in stalls {
        let (limit, outcome, after) = within("a stalled call to time out", stall).await.unwrap();
        assert_eq!(
            outcome,
            Err(ipc_runtime::CallError::Ipc(IpcError::Timeout {
                channel: "counter:stall".into(),
                after: limit,
            }))
        );
        assert!(after >= limit, "{limit:?} call failed after {after:?}");
        // Generous for a loaded machine, and still before the longest deadline passes.
        let late = if limit < longest {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(5)
        };
        assert!(
            after < limit + late,
            "{limit:?} call failed after {after:?}"
        );
    }
    within("the stalls to be cancelled", async {
        while (client.counter_stats().await.unwrap().stalls_cancelled as usize) < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;

    // Dropped with calls waiting on long deadlines: the object goes at once, not at the deadline.
    let second = within("counter", client.counter(0)).await.unwrap().client();
    let mut waiting: Vec<_> = (0..4)
        .map(|_| {
            Box::pin(
                second
                    .stall()
                    .timeout(Duration::from_secs(3600))
                    .into_future(),
            )
        })
        .collect();
    for call in &mut waiting {
        // One poll sends the call and, as it has to wait, arms its deadline.
        assert!(poll_once(call.as_mut()).await.is_pending());
    }
    drop(waiting);
    drop(second);
    let stats = within("the second counter to be released", client.wait_counters(1))
        .await
        .unwrap();
    assert_eq!((stats.created, stats.live), (2, 1));
}

/// Polls `future` once.
async fn poll_once<F: Future + ?Sized>(
    mut future: std::pin::Pin<&mut F>,
) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx))).await
}

/// Hands out tallies over one shared count (which counts the calls their objects ran).
#[ipc_runtime::channels(namespace = "ledger")]
pub trait Ledger {
    /// A tally over the ledger's count.
    async fn tally(&self) -> ipc_runtime::Handle<Tally>;
    /// The count now.
    async fn total(&self) -> i32;
}

struct LedgerBackend(Shared);

impl LedgerHandler for LedgerBackend {
    async fn tally(&self, _caller: &ipc_runtime::Caller) -> ipc_runtime::Handle<Tally> {
        Tally::serve(self.0.clone())
    }

    async fn total(&self, _caller: &ipc_runtime::Caller) -> i32 {
        self.0.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A holder that reads no answers holds its object's calls back. Over a socket, a raw renderer
/// that announced a window of two messages per port sends ten calls on one handle and grants no
/// credit: the object answers two, runs one more whose answer waits for room, and takes no other
/// call (no third answer comes, and a plain call made after the ten counts three runs). Each
/// credit of two then lets two more answers out, and the other calls run in turn; all ten are
/// answered, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_reads_no_answers_holds_its_objects_calls_back() {
    use common::raw::RawPeer;
    use serde_json::{Value, json};

    /// The next frame that is not a credit (main grants credit for the calls it took).
    async fn next(raw: &mut RawPeer, what: &str) -> Value {
        loop {
            let frame = raw.expect(what).await;
            if frame["t"] != "credit" {
                return frame;
            }
        }
    }

    let main = Main::new();
    let shared = Shared::default();
    let _ledger = Ledger::handle(&main, LedgerBackend(shared.clone())).unwrap();
    let listener = main
        .listen_unix(common::socket_path("capability-unread"))
        .unwrap();
    // Fifty rounds, each on a connection and a handle of its own: the race this guards (the
    // object's task reading the next call before it sent the parked answer) came in one run
    // of two before the task's select was biased.
    for round in 0..50 {
        shared.0.store(0, std::sync::atomic::Ordering::SeqCst);
        let mut raw = RawPeer::connect(listener.path()).await;
        raw.send_json(&json!({
            "t": "hello", "protocol": 1, "role": "renderer", "codec": "json",
            "contracts": {"ledger": Ledger::contract_hash()}, "label": "unread",
            "max_frame": 4_194_304, "port_window": 2,
        }))
        .await;
        let hello = raw.expect("main's hello").await;
        assert_eq!(hello["t"], "hello", "{hello}");
        raw.send_json(&json!({"t": "invoke", "id": 1, "ch": "ledger:tally", "args": []}))
            .await;
        let reply = next(&mut raw, "the tally").await;
        let port = reply["ok"]["port"].as_u64().expect("a handle");
        for id in 1..=10 {
            raw.send_json(&json!({"t": "port", "port": port,
                "data": {"t": "call", "id": id, "call": {"m": "add", "args": [1]}}}))
                .await;
        }
        let mut answered = Vec::new();
        let read_answer = async |raw: &mut RawPeer| {
            let frame = next(raw, "an answer").await;
            assert_eq!(frame["t"], "port", "{frame}");
            assert_eq!(frame["data"]["t"], "reply", "{frame}");
            frame["data"]["id"].as_u64().unwrap()
        };
        for _ in 0..2 {
            answered.push(read_answer(&mut raw).await);
        }
        // Frames of one connection are handled in order: this call comes after the ten.
        raw.send_json(&json!({"t": "invoke", "id": 2, "ch": "ledger:total", "args": []}))
            .await;
        let total = next(&mut raw, "the total (no third answer first)").await;
        assert_eq!(total["t"], "reply", "{total}");
        assert_eq!(total["id"], 2, "{total}");
        assert_eq!(
            total["ok"], 3,
            "round {round}: two answered, one waiting for room: {total}"
        );
        while answered.len() < 10 {
            raw.send_json(&json!({"t": "credit", "port": port, "n": 2}))
                .await;
            for _ in 0..2 {
                answered.push(read_answer(&mut raw).await);
            }
        }
        assert_eq!(answered, (1..=10).collect::<Vec<u64>>());
        assert_eq!(shared.0.load(std::sync::atomic::Ordering::SeqCst), 10);
        drop(raw);
    }
}
