//! Zero- and multi-argument invokes and sends, an invoke returning `()`, a fallible invoke, and
//! events with 0, 1 and 2 parameters, all called through the generated client and emitter.

use futures_util::StreamExt;
use ipc_runtime::schema::MethodKind;
use ipc_runtime::{CallError, Caller, Main, RendererOptions, Target, channels};
use tokio::sync::mpsc;

#[channels(namespace = "shapes")]
pub trait Shapes {
    async fn ping(&self) -> String;
    async fn area(&self, width: u32, height: u32, label: String) -> (String, u32);
    async fn nothing(&self);
    async fn divide(&self, a: i32, b: i32) -> Result<i32, String>;
    #[send]
    fn reset(&self);
    #[send]
    fn resize(&self, width: u32, height: u32, label: String);
    #[event]
    fn cleared(&self);
    #[event]
    fn moved(&self, x: i32);
    #[event]
    fn resized(&self, width: u32, height: u32);
}

struct Backend {
    sends: mpsc::UnboundedSender<String>,
}

impl ShapesHandler for Backend {
    async fn ping(&self, _caller: &Caller) -> String {
        "pong".to_string()
    }

    async fn area(
        &self,
        _caller: &Caller,
        width: u32,
        height: u32,
        label: String,
    ) -> (String, u32) {
        (label, width * height)
    }

    async fn nothing(&self, _caller: &Caller) {}

    async fn divide(&self, _caller: &Caller, a: i32, b: i32) -> Result<i32, String> {
        if b == 0 {
            Err("division by zero".to_string())
        } else {
            Ok(a / b)
        }
    }

    async fn reset(&self, caller: &Caller) {
        self.sends
            .send(format!("reset from {}", caller.label()))
            .unwrap();
    }

    async fn resize(&self, _caller: &Caller, width: u32, height: u32, label: String) {
        self.sends
            .send(format!("resize {label} {width}x{height}"))
            .unwrap();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let main = Main::new();
    let (sends, mut received) = mpsc::unbounded_channel();
    let _registration = Shapes::handle(&main, Backend { sends }).unwrap();
    let client = Shapes::client(&main.connect_in_process(RendererOptions::new("window")));

    // invokes
    assert_eq!(client.ping().await.unwrap(), "pong");
    assert_eq!(
        client.area(3, 4, "box".to_string()).await.unwrap(),
        ("box".to_string(), 12)
    );
    client.nothing().await.unwrap();
    assert_eq!(client.divide(7, 2).await.unwrap(), 3);
    assert_eq!(
        client.divide(1, 0).await,
        Err(CallError::App("division by zero".to_string()))
    );

    // sends, in order
    client.reset().unwrap();
    client.resize(5, 6, "pane".to_string()).unwrap();
    assert_eq!(received.recv().await.unwrap(), "reset from window");
    assert_eq!(received.recv().await.unwrap(), "resize pane 5x6");

    // events with 0, 1 and 2 parameters
    let mut cleared = client.on_cleared();
    let mut moved = client.on_moved();
    let mut resized = client.on_resized();
    let events = Shapes::events(&main);
    assert_eq!(events.cleared(Target::All), 1);
    assert_eq!(events.moved(Target::All, -5), 1);
    assert_eq!(events.resized(Target::All, 640, 480), 1);
    let (): () = cleared.next().await.unwrap().unwrap();
    let x: i32 = moved.next().await.unwrap().unwrap();
    assert_eq!(x, -5);
    let size: (u32, u32) = resized.next().await.unwrap().unwrap();
    assert_eq!(size, (640, 480));

    // the schema lists every method with its arity
    let schema = Shapes::schema();
    let arity: Vec<(&str, MethodKind, usize)> = schema
        .methods
        .iter()
        .map(|m| (m.name.as_str(), m.kind, m.params.len()))
        .collect();
    assert_eq!(
        arity,
        [
            ("ping", MethodKind::Invoke, 0),
            ("area", MethodKind::Invoke, 3),
            ("nothing", MethodKind::Invoke, 0),
            ("divide", MethodKind::Invoke, 2),
            ("reset", MethodKind::Send, 0),
            ("resize", MethodKind::Send, 3),
            ("cleared", MethodKind::Event, 0),
            ("moved", MethodKind::Event, 1),
            ("resized", MethodKind::Event, 2),
        ]
    );
    let nothing = schema.method("shapes:nothing").unwrap();
    assert!(nothing.output.is_none() && nothing.error.is_none());
    let divide = schema.method("shapes:divide").unwrap();
    assert_eq!(divide.output.as_ref().unwrap().ts, "number");
    assert_eq!(divide.error.as_ref().unwrap().ts, "string");
    assert_eq!(
        schema.method("shapes:resized").unwrap().js_name,
        "onResized"
    );
}
