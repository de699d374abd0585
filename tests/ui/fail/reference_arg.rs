use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: &str) -> u32;
}

fn main() {}
