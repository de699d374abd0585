use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    async fn count() -> u32;
}

fn main() {}
