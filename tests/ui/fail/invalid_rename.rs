use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    #[rename = "mark done"]
    async fn mark_done(&self, id: u32) -> bool;
}

fn main() {}
