// A method compiled out with #[cfg] does not exist on the client.
use ipc_runtime::channels;

#[channels(namespace = "flags")]
pub trait Flags {
    async fn always(&self) -> u32;
    #[cfg(any())]
    async fn never(&self) -> u32;
}

async fn call(client: &FlagsClient) {
    let _ = client.never().await;
}

fn main() {
    let _ = call;
}
