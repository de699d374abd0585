use ipc_runtime::channels;

#[channels(namespace = "store")]
pub trait Store {
    async fn put<T>(&self, value: T) -> bool;
}

fn main() {}
