use ipc_runtime::channels;

#[channels(namespace = "admin")]
#[policy(admin)]
pub trait Admin {
    #[policy(kind = "native")]
    async fn wipe(&self);

    #[policy(native, frame = "main")]
    async fn stats(&self) -> u32;

    #[policy(window(main))]
    async fn list(&self) -> u32;
}

fn main() {}
