use ipc_runtime::channels;

#[channels(namespace = "todos:v2")]
pub trait Todos {
    async fn count(&self) -> u32;
}

fn main() {}
