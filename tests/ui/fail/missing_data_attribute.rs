// `Todo` derives serde but lacks #[ipc_runtime::data], so the contract cannot describe it.
use ipc_runtime::channels;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Todo {
    pub id: u32,
    pub title: String,
}

#[channels(namespace = "todos")]
pub trait Todos {
    async fn save(&self, todo: Todo) -> bool;
}

fn main() {}
