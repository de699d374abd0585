use ipc_runtime::channels;

#[channels(namespace = "app")]
pub trait App {
    #[request]
    #[policy(native)]
    async fn confirm(&self, question: String) -> bool;
}

fn main() {}
