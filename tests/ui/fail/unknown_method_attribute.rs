// A typo of #[send].
use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    #[sned]
    fn log(&self, line: String);
}

fn main() {}
