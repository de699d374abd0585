use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    async fn count(&self) -> u32 {
        0
    }
}

fn main() {}
