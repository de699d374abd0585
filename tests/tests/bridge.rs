//! Bridge connections (the Electron main-process bridge's side of the protocol), over a real
//! Unix socket pair with raw JSON frames: each window named in a frame's `sender` becomes a
//! renderer of its own, with its own `Caller`, and events reach it through the bridge (`to`).

mod common;

use std::sync::{Arc, Mutex};

use common::within;
use ipc_runtime::{Caller, Main, MainBuilder, Target, channels};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::Semaphore;

/// What a handler saw of its caller.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    /// Caller::renderer
    pub renderer: u32,
    /// Caller::origin
    pub origin: Option<String>,
    /// Caller::frame_url
    pub url: Option<String>,
}

/// Who is calling.
#[channels(namespace = "who")]
pub trait Who {
    /// Reports the caller.
    async fn whoami(&self) -> Seen;
    /// Waits for the gate, then returns 1.
    async fn hold(&self) -> u32;
    /// Records a note with its caller.
    #[send]
    fn note(&self, text: String);
    /// Pushed to windows.
    #[event]
    fn ping(&self, n: u32);
}

#[derive(Clone)]
struct Recorder {
    notes: Arc<Mutex<Vec<(Seen, String)>>>,
    /// `hold` calls and notes starting with "slow" wait for a permit.
    gate: Arc<Semaphore>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            notes: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
        }
    }
}

fn seen(caller: &Caller) -> Seen {
    Seen {
        renderer: caller.renderer().get() as u32,
        origin: caller.origin().map(str::to_string),
        url: caller.frame_url().map(str::to_string),
    }
}

impl WhoHandler for Recorder {
    async fn whoami(&self, caller: &Caller) -> Seen {
        seen(caller)
    }
    async fn hold(&self, _caller: &Caller) -> u32 {
        self.gate.acquire().await.unwrap().forget();
        1
    }
    async fn note(&self, caller: &Caller, text: String) {
        if text.starts_with("slow") {
            self.gate.acquire().await.unwrap().forget();
        }
        self.notes.lock().unwrap().push((seen(caller), text));
    }
}

struct Raw(UnixStream);

impl Raw {
    async fn send(&mut self, frame: Value) {
        let body = serde_json::to_vec(&frame).unwrap();
        self.0
            .write_all(&(body.len() as u32).to_be_bytes())
            .await
            .unwrap();
        self.0.write_all(&body).await.unwrap();
    }

    async fn next(&mut self) -> Value {
        within("a frame", async {
            let mut len = [0u8; 4];
            self.0.read_exact(&mut len).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
            self.0.read_exact(&mut body).await.unwrap();
            serde_json::from_slice(&body).unwrap()
        })
        .await
    }

    async fn hello(&mut self, role: &str) -> Value {
        self.send(
            json!({"t": "hello", "protocol": 1, "role": role, "codec": "json",
            "contracts": {"who": Who::contract_hash()}, "label": "electron"}),
        )
        .await;
        self.next().await
    }
}

async fn setup(bridge: bool) -> (Main, Recorder, Raw) {
    setup_with(Main::builder(), bridge).await
}

async fn setup_with(builder: MainBuilder, bridge: bool) -> (Main, Recorder, Raw) {
    let main = builder.build();
    let recorder = Recorder::default();
    let _ = Who::handle(&main, recorder.clone()).unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let accepting = main.clone();
    tokio::spawn(async move {
        let accepted = if bridge {
            accepting.accept_bridge(ours).await
        } else {
            accepting.accept(ours).await
        };
        accepted.unwrap();
    });
    (main, recorder, Raw(theirs))
}

fn sender(id: u64, url: &str) -> Value {
    let origin = url.split('/').take(3).collect::<Vec<_>>().join("/");
    // What bridge.js says of a window's main frame (a subframe is refused by default).
    json!({"id": id, "url": url, "origin": origin, "main_frame": true})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_window_behind_a_bridge_is_a_renderer_with_its_own_caller() {
    let (main, recorder, mut raw) = setup(true).await;
    let hello = raw.hello("bridge").await;
    assert_eq!(hello["t"], "hello", "{hello}");
    let bridge_id = hello["renderer"].as_u64().unwrap();

    raw.send(
        json!({"t": "invoke", "id": 1, "ch": "who:whoami", "args": [],
        "sender": sender(5, "app://main/index.html")}),
    )
    .await;
    let first = raw.next().await;
    raw.send(
        json!({"t": "invoke", "id": 2, "ch": "who:whoami", "args": [],
        "sender": sender(9, "app://settings/index.html")}),
    )
    .await;
    let second = raw.next().await;
    raw.send(json!({"t": "invoke", "id": 3, "ch": "who:whoami", "args": []}))
        .await;
    let plain = raw.next().await;

    let window5 = first["ok"]["renderer"].as_u64().unwrap();
    let window9 = second["ok"]["renderer"].as_u64().unwrap();
    assert_eq!(first["ok"]["origin"], "app://main", "{first}");
    assert_eq!(first["ok"]["url"], "app://main/index.html", "{first}");
    assert_eq!(second["ok"]["origin"], "app://settings", "{second}");
    assert!(window5 != window9 && window5 != bridge_id && window9 != bridge_id);
    assert_eq!(
        plain["ok"]["renderer"].as_u64().unwrap(),
        bridge_id,
        "{plain}"
    );
    assert_eq!(main.renderer_count(), 3);

    // A send names its window too; the listener sees that window as the caller.
    raw.send(json!({"t": "send", "ch": "who:note", "args": ["from 9"],
        "sender": sender(9, "app://settings/index.html")}))
        .await;
    common::eventually("the note", || !recorder.notes.lock().unwrap().is_empty()).await;
    let (who, text) = recorder.notes.lock().unwrap()[0].clone();
    assert_eq!((who.renderer as u64, text.as_str()), (window9, "from 9"));

    // Events: to one window through the bridge with `to`; to all as one frame without it.
    let window9_id = main
        .renderers()
        .into_iter()
        .find(|c| c.renderer().get() == window9)
        .unwrap()
        .renderer();
    assert_eq!(Who::events(&main).ping(window9_id, 1), 1);
    let to_one = raw.next().await;
    assert_eq!(
        (
            to_one["ch"].clone(),
            to_one["to"].clone(),
            to_one["args"].clone()
        ),
        (json!("who:ping"), json!(9), json!([1]))
    );
    assert_eq!(Who::events(&main).ping(Target::All, 2), 1);
    let to_all = raw.next().await;
    assert!(to_all.get("to").is_none(), "{to_all}");
    assert_eq!(to_all["args"], json!([2]));
    // A filter over windows' identities reaches the matching window only.
    let settings = Target::filter(|c| c.origin() == Some("app://settings"));
    assert_eq!(Who::events(&main).ping(settings, 3), 1);
    assert_eq!(raw.next().await["to"], 9);

    // A window that closes is forgotten; the bridge and the other window stay.
    raw.send(json!({"t": "detach", "sender": 9})).await;
    common::eventually("window 9 forgotten", || main.renderer_count() == 2).await;

    // When the bridge goes, its windows go with it.
    drop(raw);
    common::eventually("bridge and windows forgotten", || {
        main.renderer_count() == 0
    })
    .await;
}

/// A bridge names at most as many windows at once as main takes connections: each is a
/// renderer with bounds of its own. The one past it is refused; a window that goes makes room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_names_no_more_windows_than_main_takes_connections() {
    let (main, _recorder, mut raw) = setup_with(Main::builder().max_connections(2), true).await;
    assert_eq!(raw.hello("bridge").await["t"], "hello");
    for (call, window) in [(1, 5), (2, 6), (3, 7)] {
        raw.send(
            json!({"t": "invoke", "id": call, "ch": "who:whoami", "args": [],
            "sender": sender(window, "app://main/index.html")}),
        )
        .await;
    }
    let answers = [raw.next().await, raw.next().await, raw.next().await];
    assert!(
        answers[0]["ok"].is_object() && answers[1]["ok"].is_object(),
        "{answers:?}"
    );
    assert_eq!(answers[2]["id"], 3, "{answers:?}");
    assert_eq!(
        answers[2]["error"]["code"], "too_many_connections",
        "{answers:?}"
    );
    assert_eq!(answers[2]["error"]["limit"], 2, "{answers:?}");
    raw.send(json!({"t": "detach", "sender": 5})).await;
    raw.send(
        json!({"t": "invoke", "id": 4, "ch": "who:whoami", "args": [],
        "sender": sender(7, "app://main/index.html")}),
    )
    .await;
    assert!(raw.next().await["ok"].is_object());
    assert_eq!(main.renderer_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_bridge_may_name_a_sender() {
    let (main, recorder, mut raw) = setup(false).await;
    // Plain `accept` refuses the bridge role outright ...
    let refused = raw.hello("bridge").await;
    assert_eq!(refused["t"], "error", "{refused}");
    assert_eq!(refused["error"]["code"], "protocol", "{refused}");

    // ... and a renderer that names a sender is refused per call, without impersonating anyone.
    let (ours, theirs) = UnixStream::pair().unwrap();
    let accepting = main.clone();
    tokio::spawn(async move { accepting.accept(ours).await.unwrap() });
    let mut raw = Raw(theirs);
    assert_eq!(raw.hello("renderer").await["t"], "hello");
    raw.send(
        json!({"t": "invoke", "id": 1, "ch": "who:whoami", "args": [],
        "sender": sender(5, "app://main/index.html")}),
    )
    .await;
    let reply = raw.next().await;
    assert_eq!(reply["error"]["code"], "forbidden", "{reply}");
    raw.send(json!({"t": "send", "ch": "who:note", "args": ["spoof"],
        "sender": sender(5, "app://main/index.html")}))
        .await;
    let notice = raw.next().await;
    assert_eq!(
        (notice["t"].clone(), notice["error"]["code"].clone()),
        (json!("error"), json!("forbidden"))
    );
    assert!(recorder.notes.lock().unwrap().is_empty());
    assert_eq!(main.renderer_count(), 1);
}

/// Reads frames until the one `matches` accepts; returns it and the frames read before it.
async fn until(raw: &mut Raw, matches: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let frame = raw.next().await;
        if matches(&frame) {
            return (frame, before);
        }
        before.push(frame);
        assert!(before.len() < 1000, "never came: {before:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_window_at_its_limits_holds_up_no_other() {
    let builder = Main::builder().max_in_flight(4).max_sends_running(2);
    let (_main, recorder, mut raw) = setup_with(builder, true).await;
    assert_eq!(raw.hello("bridge").await["t"], "hello");
    let busy = || sender(5, "app://busy/index.html");
    let calm = || sender(9, "app://calm/index.html");

    // Window 5 fills its calls in flight; the next one is refused at once.
    for id in 1..=5 {
        raw.send(json!({"t": "invoke", "id": id, "ch": "who:hold", "args": [], "sender": busy()}))
            .await;
    }
    let (refused, _) = until(&mut raw, |f| f["id"] == 5).await;
    assert_eq!(refused["error"]["code"], "too_many_in_flight", "{refused}");
    assert_eq!(refused["error"]["limit"], 4, "{refused}");
    // Window 9 has bounds of its own.
    raw.send(json!({"t": "invoke", "id": 6, "ch": "who:whoami", "args": [], "sender": calm()}))
        .await;
    let (answered, _) = until(&mut raw, |f| f["id"] == 6).await;
    assert_eq!(answered["ok"]["origin"], "app://calm", "{answered}");

    // Window 5 fills its running sends; the next is refused instead of stopping the bridge.
    for n in 0..3 {
        raw.send(
            json!({"t": "send", "ch": "who:note", "args": [format!("slow {n}")],
            "sender": busy()}),
        )
        .await;
    }
    let (notice, _) = until(&mut raw, |f| f["t"] == "error").await;
    assert_eq!(notice["error"]["code"], "too_many_in_flight", "{notice}");
    raw.send(json!({"t": "send", "ch": "who:note", "args": ["fast"], "sender": calm()}))
        .await;
    raw.send(json!({"t": "invoke", "id": 7, "ch": "who:whoami", "args": [], "sender": calm()}))
        .await;
    until(&mut raw, |f| f["id"] == 7).await;
    common::eventually("window 9's note", || {
        recorder
            .notes
            .lock()
            .unwrap()
            .iter()
            .any(|(_, text)| text == "fast")
    })
    .await;

    // Released, window 5's calls and sends finish.
    recorder.gate.add_permits(6);
    let mut replies = Vec::new();
    while replies.len() < 4 {
        let (reply, _) = until(&mut raw, |f| f["t"] == "reply").await;
        assert_eq!(reply["ok"], 1, "{reply}");
        replies.push(reply["id"].as_u64().unwrap());
    }
    replies.sort();
    assert_eq!(replies, [1, 2, 3, 4]);
    common::eventually("window 5's two notes", || {
        recorder.notes.lock().unwrap().len() == 3
    })
    .await;
}
