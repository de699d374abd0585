use ipc_runtime::channels;

#[channels(namespace = "files", large_ints = "string")]
pub trait Files {
    async fn size(&self, path: String) -> u64;
}

fn main() {}
