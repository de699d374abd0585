//! `#[sync]` methods: what the schema carries, and the blocking client's signatures.

use ipc_runtime::schema::{DEFAULT_SYNC_TIMEOUT_MS, MethodKind};
use ipc_runtime::{CallError, IpcError, channels};

#[ipc_runtime::data]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Missing {
    pub key: String,
}

#[channels(namespace = "settings")]
pub trait Settings {
    /// Read before the page renders.
    #[sync(timeout_ms = 250)]
    async fn get(&self, key: String) -> Result<String, Missing>;

    #[sync]
    async fn version(&self) -> u32;
}

#[allow(dead_code)]
fn blocking_signatures(client: &SettingsClient) {
    let _: Result<String, CallError<Missing>> = client.get("theme".into());
    let _: Result<u32, IpcError> = client.version();
}

fn main() {
    let schema = Settings::schema();
    let get = &schema.methods[0];
    assert_eq!(get.kind, MethodKind::Sync);
    assert_eq!(get.timeout_ms, Some(250));
    let version = &schema.methods[1];
    assert_eq!(version.timeout_ms, Some(DEFAULT_SYNC_TIMEOUT_MS));
}
