// The handler implements the invoke but forgets the #[send] method (events are not handled).
use ipc_runtime::{Caller, Main, channels};

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: String) -> u32;
    #[send]
    fn log(&self, line: String);
    #[event]
    fn changed(&self, id: u32);
}

struct Backend;

impl TodosHandler for Backend {
    async fn add(&self, _caller: &Caller, _title: String) -> u32 {
        1
    }
}

fn main() {
    let _ = Todos::handle(&Main::new(), Backend);
}
