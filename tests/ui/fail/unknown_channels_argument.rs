// A typo of `namespace`.
use ipc_runtime::channels;

#[channels(namespce = "todos")]
pub trait Todos {
    async fn count(&self) -> u32;
}

fn main() {}
