//! Every policy clause is accepted, carried in `schema()`, and a method's rules sit next to the
//! trait's.
use ipc_runtime::channels;
use ipc_runtime::schema::{RendererKind, Rule};

#[channels(namespace = "admin")]
#[policy(native)]
#[policy(web, origin = "https://app.example", origin = "app://settings")]
pub trait Admin {
    #[policy(capability = "admin")]
    async fn wipe(&self);

    #[policy(window, main_frame)]
    #[policy(native)]
    async fn stats(&self) -> u32;

    #[event]
    #[policy(page)]
    fn changed(&self, count: u32);

    #[request]
    async fn confirm(&self, question: String) -> bool;

    async fn open(&self) -> u32;
}

fn main() {
    let schema = Admin::schema();
    assert_eq!(schema.policy.len(), 2);
    assert_eq!(schema.policy[0], Rule::new().renderer(RendererKind::Native));
    assert_eq!(
        schema.policy[1].to_string(),
        r#"#[policy(window, page, origin = "https://app.example", origin = "app://settings")]"#
    );
    let wipe = schema.method("admin:wipe").unwrap();
    assert_eq!(wipe.policy, vec![Rule::new().capability("admin")]);
    assert_eq!(schema.policy_levels(wipe).len(), 2);
    assert_eq!(schema.method("admin:stats").unwrap().policy.len(), 2);
    assert_eq!(schema.policy_levels(schema.method("admin:open").unwrap()).len(), 1);
    assert!(schema.policy_levels(schema.method("admin:confirm").unwrap()).is_empty());
}
