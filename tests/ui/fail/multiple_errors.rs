// Two unrelated mistakes: both are reported by one expansion.
use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: &str) -> u32;
    #[event]
    fn changed(&mut self, id: u32);
}

fn main() {}
