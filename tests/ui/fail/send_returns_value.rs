use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    #[send]
    fn log(&self, line: String) -> bool;
}

fn main() {}
