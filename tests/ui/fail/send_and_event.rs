use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    #[send]
    #[event]
    fn changed(&self, id: u32);
}

fn main() {}
