use ipc_runtime::channels;

#[channels(namespace = "admin")]
pub trait Admin {
    #[policy()]
    async fn empty(&self);

    #[policy]
    async fn bare(&self);

    #[policy = "native"]
    async fn name_value(&self);
}

fn main() {}
