use ipc_runtime::channels;

#[channels(namespace = "session")]
pub trait Session {
    async fn close(self) -> bool;
}

fn main() {}
