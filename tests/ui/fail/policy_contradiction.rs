use ipc_runtime::channels;

#[channels(namespace = "admin")]
#[policy(native)]
pub trait Admin {
    // Contradicts the trait's policy: a call must meet both.
    #[policy(page)]
    async fn from_pages(&self);

    #[policy(native, main_frame)]
    async fn native_main_frame(&self);

    #[policy(page, main_frame)]
    async fn page_main_frame(&self);

    #[policy(window)]
    #[policy(web, capability = "admin")]
    async fn every_rule_contradicts(&self);
}

fn main() {}
