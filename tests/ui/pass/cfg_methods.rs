//! `#[cfg]` on methods: a cfg'd-out method disappears from every generated item (contract
//! constant, handler trait, client, emitter, schema); a cfg'd-in one is kept.

use futures_util::StreamExt;
use ipc_runtime::{Caller, Main, RendererOptions, Target, channels};

#[channels(namespace = "flags")]
pub trait Flags {
    async fn always(&self) -> u32;
    /// Compiled out: even its types need not exist.
    #[cfg(any())]
    async fn never(&self, value: TypeThatDoesNotExist) -> AlsoMissing;
    #[cfg(any())]
    #[send]
    fn never_sent(&self, value: TypeThatDoesNotExist);
    #[cfg(any())]
    #[event]
    fn never_emitted(&self, value: TypeThatDoesNotExist);
    /// Compiled in.
    #[cfg(all())]
    async fn kept(&self, value: u32) -> u32;
    #[cfg(all())]
    #[event]
    fn kept_event(&self, value: u32);
}

struct Backend;

// Implementing only the compiled-in methods proves the others are not in the handler trait.
impl FlagsHandler for Backend {
    async fn always(&self, _caller: &Caller) -> u32 {
        1
    }

    async fn kept(&self, _caller: &Caller, value: u32) -> u32 {
        value * 2
    }
}

/// Fallbacks that are only used when the generated types have no such inherent items: inherent
/// items take precedence, so each call below returns "absent" only if the method is gone.
trait Absent {
    fn never(&self) -> &'static str {
        "absent"
    }
    fn never_sent(&self) -> &'static str {
        "absent"
    }
    fn on_never_emitted(&self) -> &'static str {
        "absent"
    }
    fn never_emitted(&self) -> &'static str {
        "absent"
    }
}

impl Absent for FlagsClient {}
impl Absent for FlagsEvents {}

trait AbsentConst {
    const NEVER: &'static str = "absent";
}

impl AbsentConst for Flags {}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let main = Main::new();
    let registration = Flags::handle(&main, Backend).unwrap();
    assert_eq!(registration.channels(), ["flags:always", "flags:kept"]);
    let client = Flags::client(&main.connect_in_process(RendererOptions::new("window")));

    assert_eq!(client.always().await.unwrap(), 1);
    assert_eq!(client.kept(21).await.unwrap(), 42);
    let mut kept = client.on_kept_event();
    assert_eq!(Flags::events(&main).kept_event(Target::All, 7), 1);
    assert_eq!(kept.next().await, Some(Ok(7)));

    assert_eq!(client.never(), "absent");
    assert_eq!(client.never_sent(), "absent");
    assert_eq!(client.on_never_emitted(), "absent");
    assert_eq!(Flags::events(&main).never_emitted(), "absent");
    assert_eq!(<Flags as AbsentConst>::NEVER, "absent");
    assert_eq!(Flags::NEVER, "absent");

    let schema = Flags::schema();
    assert_eq!(schema.methods.len(), 3);
    let names: Vec<&str> = schema.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["always", "kept", "kept_event"]);
    assert_eq!(schema.methods[1].docs, "Compiled in.");
}
