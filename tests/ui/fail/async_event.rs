use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    #[event]
    async fn changed(&self, id: u32);
}

fn main() {}
