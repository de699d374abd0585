// The handler returns a `String` where the contract says `u32`.
use ipc_runtime::{Caller, Main, channels};

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: String) -> u32;
}

struct Backend;

impl TodosHandler for Backend {
    async fn add(&self, _caller: &Caller, title: String) -> String {
        title
    }
}

fn main() {
    let _ = Todos::handle(&Main::new(), Backend);
}
