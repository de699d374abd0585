// A client call with too many arguments is rejected at the call site.
use ipc_runtime::channels;

#[channels(namespace = "todos")]
pub trait Todos {
    async fn rename(&self, id: u32, title: String) -> bool;
}

async fn call(client: &TodosClient) {
    let _ = client.rename(1).await;
}

fn main() {
    let _ = call;
}
