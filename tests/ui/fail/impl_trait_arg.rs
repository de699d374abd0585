use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: impl Into<String>) -> u32;
}

fn main() {}
