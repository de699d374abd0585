use ipc_runtime::channels;

#[channels(namespace = "files")]
pub trait Files {
    async fn truncate(&self, path: String, len: u64) -> bool;
}

fn main() {}
