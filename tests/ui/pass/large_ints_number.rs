//! `large_ints = "number"`: 64-bit and pointer-sized integers are allowed and typed `number`.

use ipc_runtime::schema::LargeInts;
use ipc_runtime::{Caller, Main, RendererOptions, channels};

/// A type with 64-bit fields opts in on its own (it may serve several contracts).
#[ipc_runtime::data(large_ints = "number")]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileInfo {
    pub size: u64,
    pub modified: i64,
}

#[channels(namespace = "files", large_ints = "number")]
pub trait Files {
    async fn stat(&self, path: String) -> FileInfo;
    async fn add(&self, a: u64, b: i64, c: usize) -> Result<i128, String>;
    #[send]
    fn truncate(&self, len: u64);
    #[event]
    fn grew(&self, by: std::num::NonZeroU64);
}

struct Backend;

impl FilesHandler for Backend {
    async fn stat(&self, _caller: &Caller, _path: String) -> FileInfo {
        FileInfo {
            size: u64::from(u32::MAX) + 1,
            modified: -1,
        }
    }

    async fn add(&self, _caller: &Caller, a: u64, b: i64, c: usize) -> Result<i128, String> {
        Ok(i128::from(a) + i128::from(b) + c as i128)
    }

    async fn truncate(&self, _caller: &Caller, _len: u64) {}
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let main = Main::new();
    let _registration = Files::handle(&main, Backend).unwrap();
    let client = FilesClient::new(main.connect_in_process(RendererOptions::new("window")));
    assert_eq!(client.stat("/".to_string()).await.unwrap().size, 1 << 32);
    assert_eq!(client.add(u64::MAX, -1, 1).await, Ok(i128::from(u64::MAX)));
    client.truncate(u64::MAX).unwrap();

    let schema = Files::schema();
    assert_eq!(schema.large_ints, LargeInts::Number);
    assert!(schema.large_int_uses().is_empty());
    let add = schema.method("files:add").unwrap();
    let params: Vec<&str> = add.params.iter().map(|p| p.ty.ts.as_str()).collect();
    assert_eq!(params, ["number", "number", "number"]);
    assert_eq!(add.params[0].ty.rust, "u64");
    assert!(!schema.types["FileInfo"].declaration.contains("bigint"));
}
