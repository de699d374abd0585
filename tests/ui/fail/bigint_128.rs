//! Under `large_ints = "bigint"`, 64-bit integers are bigints; 128-bit ones have no MessagePack
//! integer form, so they are refused rather than cross as bytes.

#[ipc_runtime::channels(namespace = "ledger", large_ints = "bigint")]
pub trait Ledger {
    async fn add(&self, a: u64, b: i64) -> u64;
    async fn huge(&self, a: u128) -> Option<i128>;
}

fn main() {}
