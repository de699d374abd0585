// The handler takes a `u32` where the contract says `String`.
use ipc_runtime::{Caller, Main, channels};

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: String) -> u32;
}

struct Backend;

impl TodosHandler for Backend {
    async fn add(&self, _caller: &Caller, title: u32) -> u32 {
        title
    }
}

fn main() {
    let _ = Todos::handle(&Main::new(), Backend);
}
