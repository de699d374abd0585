// `Todo` lacks #[ipc_runtime::data] and is used inside `Vec` and `Option`: the contract's
// message is given at the type that lacks it, as for a direct parameter.
use ipc_runtime::channels;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Todo {
    pub id: u32,
}

#[channels(namespace = "todos")]
pub trait Todos {
    async fn save_all(&self, todos: Vec<Todo>) -> bool;
    async fn find(&self, id: u32) -> Option<Todo>;
}

fn main() {}
