use ipc_runtime::{Port, Stream, channels};

#[channels(namespace = "settings")]
pub trait Settings {
    // Not a deadline.
    #[sync(timeout = 5)]
    async fn wrong_key(&self) -> u32;

    #[sync = 5]
    async fn name_value(&self) -> u32;

    #[sync(timeout_ms = 0)]
    async fn no_time_at_all(&self) -> u32;

    #[sync(timeout_ms = 60001)]
    async fn frozen_for_a_minute(&self) -> u32;

    #[sync(timeout_ms = 10, timeout_ms = 20)]
    async fn twice(&self) -> u32;

    #[sync]
    fn not_async(&self) -> u32;

    // A port outlives the blocking call.
    #[sync]
    async fn upload(&self, lines: Stream<String>) -> u32;

    #[sync]
    async fn chat(&self) -> Port<String, String>;

    #[sync]
    #[send]
    fn two_kinds(&self);
}

fn main() {}
