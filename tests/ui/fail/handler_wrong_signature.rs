// The handler method forgets the `caller` parameter every handler method receives.
use ipc_runtime::{Main, channels};

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: String) -> u32;
}

struct Backend;

impl TodosHandler for Backend {
    async fn add(&self, title: String) -> u32 {
        title.len() as u32
    }
}

fn main() {
    let _ = Todos::handle(&Main::new(), Backend);
}
