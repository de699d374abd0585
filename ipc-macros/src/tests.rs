//! Expansion snapshots: what `#[channels]` and `#[data]` generate, pretty-printed. A change to the
//! generated code shows up as a snapshot diff to review (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test -p ipc-macros` and read the diff).

use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = match syn::parse2(tokens.clone()) {
        Ok(file) => file,
        Err(error) => panic!("the expansion is not a list of items ({error}):\n{tokens}"),
    };
    prettyplease::unparse(&file)
}

fn channels(args: TokenStream, item: TokenStream) -> String {
    pretty(crate::expand_channels(args, item))
}

/// Every method kind and shape: invokes (plain, fallible, unit, no arguments), sends and events
/// with 0, 1 and 2 parameters, doc comments, `#[rename]`, `#[cfg]` and a raw identifier.
#[test]
fn every_method_kind() {
    insta::assert_snapshot!(channels(
        quote!(namespace = "todos"),
        quote! {
            /// Todo list backend.
            pub trait Todos {
                /// Adds a todo.
                async fn add(&self, title: String) -> Todo;
                async fn toggle(&self, id: u32) -> Result<Todo, TodoError>;
                async fn list(&self) -> Vec<Todo>;
                async fn clear(&self);
                #[rename = "mark-done"]
                async fn mark_done(&self, id: u32, done: bool) -> bool;
                async fn r#type(&self, r#ref: String) -> String;
                #[cfg(feature = "debug")]
                async fn dump(&self) -> String;
                /// Read while the caller waits.
                #[sync(timeout_ms = 250)]
                async fn peek(&self, id: u32) -> Result<Todo, TodoError>;
                #[sync]
                async fn count(&self) -> u32;
                /// A log line.
                #[send]
                fn log(&self, line: String);
                #[send]
                fn ping(&self);
                #[event]
                fn cleared(&self);
                /// A todo changed.
                #[event]
                fn changed(&self, todo: Todo);
                #[event]
                fn moved(&self, from: u32, to: u32);
            }
        },
    ));
}

/// `crate = "..."` reaches the runtime through another path; `large_ints = "number"` changes the
/// schema's rule; the default namespace is the trait's name in snake_case.
#[test]
fn crate_path_and_large_ints() {
    insta::assert_snapshot!(channels(
        quote!(crate = "::my_app::ipc", large_ints = "number"),
        quote! {
            pub(crate) trait FileStore {
                async fn size(&self, path: String) -> u64;
            }
        },
    ));
}

/// An invalid contract: every error, then everything its sound methods generate (the faulty
/// ones left out, written as they were in a hidden trait of their own), so the rest of the crate
/// still resolves the contract's names.
#[test]
fn invalid_contract_keeps_what_it_can() {
    insta::assert_snapshot!(channels(
        quote!(namespace = "bad name"),
        quote! {
            /// Docs stay.
            pub trait Broken {
                async fn borrow(&mut self, title: &str) -> u64;
                #[sned]
                fn log(&self, line: String) -> bool;
                #[event]
                #[cfg(unix)]
                fn changed(&self);
            }
        },
    ));
}

/// A trait whose shape the macro cannot take (generic): every error, then the trait itself (minus
/// the attributes `#[channels]` handles).
#[test]
fn misshapen_contract_keeps_the_trait() {
    insta::assert_snapshot!(channels(
        quote!(namespace = "shapes"),
        quote! {
            pub trait Generic<T> {
                #[send]
                fn log(&self, line: String);
            }
        },
    ));
}

#[test]
fn data_type() {
    insta::assert_snapshot!(pretty(crate::data::expand(
        TokenStream::new(),
        quote! {
            /// A todo.
            #[derive(Clone, serde::Serialize, serde::Deserialize)]
            pub struct Todo {
                pub id: u32,
                pub title: String,
            }
        },
    )));
}

/// Time values: a `#[data]` field carried through the runtime's adapter and described by its
/// form's marker; a method's time arguments and result in `Wire`, unwrapped by the client and
/// wrapped around the handler's value; an event's, destructured for the subscriber.
#[test]
fn time_values() {
    insta::assert_snapshot!(pretty(crate::data::expand(
        TokenStream::new(),
        quote! {
            #[derive(serde::Serialize, serde::Deserialize)]
            pub struct Reminder {
                pub at: std::time::SystemTime,
                pub every: Option<Duration>,
                pub history: Vec<(chrono::DateTime<Utc>, u8)>,
            }
        },
    )));
    insta::assert_snapshot!(channels(
        quote!(namespace = "clock"),
        quote! {
            pub trait Clock {
                async fn shift(&self, at: SystemTime, by: Duration, label: String) -> Result<SystemTime, ClockError>;
                #[event]
                fn ticked(&self, at: SystemTime);
            }
        },
    ));
}

/// A capability contract: the marker implements `Capability`, the call and reply enums carry one
/// variant per method (by wire name), `serve` dispatches to the handler (no caller: whoever holds
/// the handle calls), and the client calls through the handle.
#[test]
fn capability() {
    insta::assert_snapshot!(channels(
        quote!(namespace = "file", capability),
        quote! {
            /// An open file.
            pub trait FileHandle {
                /// Reads up to `len` bytes.
                async fn read(&self, len: u32) -> Result<Vec<u8>, FileError>;
                #[rename = "set-len"]
                async fn set_len(&self, len: u32, at: SystemTime);
            }
        },
    ));
}
