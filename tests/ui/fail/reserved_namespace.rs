use ipc_runtime::channels;

// `__ipc:cancel` is the preload's own channel to the bridge: no contract may name it.
#[channels(namespace = "__ipc")]
pub trait Internal {
    async fn cancel(&self, id: u32);
}

// The same rule holds for the namespace derived from the trait's name (`__internal`).
#[channels]
pub trait __Internal {
    async fn lag(&self) -> u32;
}

fn main() {}
