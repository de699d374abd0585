use ipc_runtime::channels;

#[channels(namespace = "store")]
pub trait Store<T> {
    async fn get(&self, key: String) -> T;
}

fn main() {}
