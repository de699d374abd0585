//! Parameters may use the names generated code uses for its own variables (`caller`, `handler`,
//! `target`, `batch`, `main`, ...): the generated bindings cannot clash with them.

use futures_util::StreamExt;
use ipc_runtime::{Caller, Main, RendererOptions, Target, channels};

#[channels(namespace = "names")]
pub trait Names {
    async fn invoke(&self, caller: String, handler: u32, batch: u32) -> String;
    async fn more(&self, main: u32, renderer: u32, args: u32, value: u32, method: u32) -> u32;
    async fn schema_like(&self, builder: u32, rule: u32, registration: u32) -> u32;
    #[send]
    fn send(&self, caller: String, handler: u32);
    #[event]
    fn emitted(&self, target: String, main: u32);
    #[event]
    fn single(&self, value: u32);
}

struct Backend;

impl NamesHandler for Backend {
    async fn invoke(&self, who: &Caller, caller: String, handler: u32, batch: u32) -> String {
        format!("{} {caller} {handler} {batch}", who.label())
    }

    async fn more(
        &self,
        _: &Caller,
        main: u32,
        renderer: u32,
        args: u32,
        value: u32,
        method: u32,
    ) -> u32 {
        main + renderer + args + value + method
    }

    async fn schema_like(&self, _: &Caller, builder: u32, rule: u32, registration: u32) -> u32 {
        builder * rule * registration
    }

    async fn send(&self, _: &Caller, _caller: String, _handler: u32) {}
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let main = Main::new();
    let _registration = Names::handle(&main, Backend).unwrap();
    let client = NamesClient::new(main.connect_in_process(RendererOptions::new("window")));
    assert_eq!(
        client.invoke("c".into(), 1, 2).await.unwrap(),
        "window c 1 2"
    );
    assert_eq!(client.more(1, 2, 3, 4, 5).await.unwrap(), 15);
    assert_eq!(client.schema_like(2, 3, 4).await.unwrap(), 24);
    client.send("c".into(), 1).unwrap();
    let mut emitted = client.on_emitted();
    let mut single = client.on_single();
    let events = Names::events(&main);
    assert_eq!(events.emitted(Target::All, "t".into(), 9), 1);
    assert_eq!(events.single(Target::All, 3), 1);
    assert_eq!(emitted.next().await, Some(Ok(("t".to_string(), 9))));
    assert_eq!(single.next().await, Some(Ok(3)));
    let params: Vec<&str> = Names::schema().methods[0]
        .params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(params, ["caller", "handler", "batch"]);
}
