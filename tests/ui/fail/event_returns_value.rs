use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    #[event]
    fn changed(&self, id: u32) -> bool;
}

fn main() {}
