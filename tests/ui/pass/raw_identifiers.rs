//! Keywords as method and parameter names, written as raw identifiers.

use futures_util::StreamExt;
use ipc_runtime::{Caller, Main, RendererOptions, Target, channels};
use tokio::sync::mpsc;

#[channels(namespace = "keywords")]
pub trait Keywords {
    async fn r#type(&self, r#ref: String) -> String;
    async fn r#async(&self, r#in: u32, r#fn: u32) -> u32;
    #[send]
    fn r#move(&self, r#ref: String);
    #[event]
    fn r#match(&self, r#ref: String);
}

struct Backend {
    moves: mpsc::UnboundedSender<String>,
}

impl KeywordsHandler for Backend {
    async fn r#type(&self, _caller: &Caller, r#ref: String) -> String {
        format!("type of {ref}", ref = r#ref)
    }

    async fn r#async(&self, _caller: &Caller, r#in: u32, r#fn: u32) -> u32 {
        r#in + r#fn
    }

    async fn r#move(&self, _caller: &Caller, r#ref: String) {
        self.moves.send(r#ref).unwrap();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let main = Main::new();
    let (moves, mut moved) = mpsc::unbounded_channel();
    let _registration = Keywords::handle(&main, Backend { moves }).unwrap();
    let client = KeywordsClient::new(main.connect_in_process(RendererOptions::new("window")));

    assert_eq!(client.r#type("x".to_string()).await.unwrap(), "type of x");
    assert_eq!(client.r#async(2, 3).await.unwrap(), 5);
    client.r#move("left".to_string()).unwrap();
    assert_eq!(moved.recv().await.unwrap(), "left");

    let mut matches = client.on_match();
    assert_eq!(
        Keywords::events(&main).r#match(Target::All, "m".to_string()),
        1
    );
    assert_eq!(matches.next().await.unwrap().unwrap(), "m");

    // Channel names, constants and the schema use the names without `r#`.
    assert_eq!(Keywords::TYPE.name(), "keywords:type");
    assert_eq!(Keywords::ASYNC.name(), "keywords:async");
    assert_eq!(Keywords::MOVE.name(), "keywords:move");
    assert_eq!(Keywords::MATCH.name(), "keywords:match");
    let schema = Keywords::schema();
    let names: Vec<&str> = schema.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["type", "async", "move", "match"]);
    let ty = schema.method("keywords:type").unwrap();
    assert_eq!(ty.js_name, "type");
    assert_eq!(ty.params[0].name, "ref");
    assert_eq!(ty.params[0].js_name, "ref");
    assert_eq!(schema.method("keywords:match").unwrap().js_name, "onMatch");
}
