use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: String) -> u32;
    #[rename = "add"]
    async fn add_many(&self, titles: Vec<String>) -> u32;
}

fn main() {}
