use ipc_runtime::channels;

#[channels(namespace = "admin")]
pub trait Admin {
    #[policy(origin = "https://app.example/")]
    async fn trailing_slash(&self);

    #[policy(origin = "HTTPS://App.example")]
    async fn uppercase(&self);

    #[policy(origin = "null")]
    async fn opaque(&self);

    #[policy(origin)]
    async fn no_value(&self);

    #[policy(origin = "https://a.example", origin = "https://a.example")]
    async fn twice(&self);

    #[policy(capability = "Admin Rights")]
    async fn bad_capability(&self);

    #[policy(native, native)]
    async fn repeated(&self);

    #[policy(main_frame = true)]
    async fn flag_with_value(&self);
}

fn main() {}
