//! A time value where no wire form reaches it: inside a generic type of one's own, directly in a
//! stream or a port, or as an application error itself.

use std::time::SystemTime;

use ipc_runtime::{Port, Stream};

#[ipc_runtime::data]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
}

#[ipc_runtime::data]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Calendar {
    pub days: Page<SystemTime>,
}

#[ipc_runtime::channels(namespace = "clock")]
pub trait Clock {
    async fn page(&self) -> Page<SystemTime>;
    async fn ticks(&self) -> Stream<SystemTime>;
    async fn chat(&self) -> Port<Vec<SystemTime>, String>;
    async fn fail(&self) -> Result<u32, Option<SystemTime>>;
}

fn main() {}
