use ipc_runtime::channels;

#[channels(namespace = "counter")]
pub trait Counter {
    async fn increment(&mut self) -> u32;
}

fn main() {}
