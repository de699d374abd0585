// A client call with an argument of the wrong type is a type error at the call site.
use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    async fn add(&self, title: String) -> u32;
}

async fn call(client: &TodosClient) {
    let _ = client.add(42).await;
}

fn main() {
    let _ = call;
}
