//! Shared pieces of the fuzz targets (`fuzz_targets/`): the counting allocator, the contract
//! the argument and session targets use, and the session driver.

pub mod alloc;
pub mod contract;
pub mod session;
