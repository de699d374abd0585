use ipc_runtime::channels;

#[channels(namespace = "todos")]
#[derive(Debug)]
pub trait Todos {
    async fn count(&self) -> u32;
}

fn main() {}
