use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    fn count(&self) -> u32;
}

fn main() {}
