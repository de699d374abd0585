//! One faulty method is reported once: everything else the contract generates still exists, so
//! the code using it (the handler, its registration, the client, the events) compiles on and
//! adds no "cannot find type `TodosClient`" or "expected a type, found a trait" of its own.
use ipc_runtime::{Caller, Main, RendererOptions, channels};

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: String) -> u32;
    /// Forgot `async`: the one error.
    fn count(&self) -> u32;
    #[event]
    fn changed(&self, id: u32);
}

struct Backend;

impl TodosHandler for Backend {
    async fn add(&self, _caller: &Caller, title: String) -> u32 {
        title.len() as u32
    }
}

async fn run() {
    let main = Main::new();
    let _registration = Todos::handle(&main, Backend).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("r"));
    let client: TodosClient = Todos::client(&renderer);
    let _ = client.add("milk".into()).await;
    let _changes = client.on_changed();
    let _emitted = Todos::events(&main).changed(ipc_runtime::Target::All, 1);
}

fn main() {
    let _ = run();
}
