//! The schema-export step of the README: the web bindings of the contract, written when asked
//! (`UPDATE_BINDINGS=1`), checked against the contract otherwise.

#[test]
fn web_bindings_are_fresh() {
    let bindings =
        ipc_runtime::schema::js::Bindings::new(&[notes_app::Notes::schema()]).api_key("notes");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/generated");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        bindings.write_to(&dir).unwrap();
    } else {
        bindings.check(&dir).unwrap();
    }
}
