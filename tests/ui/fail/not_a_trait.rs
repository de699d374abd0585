use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub struct Todos;

fn main() {}
