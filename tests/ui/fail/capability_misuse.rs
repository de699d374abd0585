//! A capability's methods are invokes called through its handle: no events, sends, requests or
//! sync calls. Its policies are checked as any contract's (a method's must hold with the trait's).

#[ipc_runtime::channels(namespace = "file", capability)]
#[policy(window)]
pub trait FileHandle {
    async fn read(&self, len: u32) -> Vec<u8>;
    #[event]
    fn changed(&self);
    #[send]
    fn touch(&self);
    #[sync]
    async fn size(&self) -> u32;
    #[policy(native)]
    async fn truncate(&self, len: u32);
    async fn handle(&self) -> u32;
}

fn main() {}
