//! Generated code names everything by absolute path: a contract and its data types compile in a
//! module without the prelude, and in a module that shadows the prelude and the runtime's names.

mod hygiene {
    #![no_implicit_prelude]

    /// An item.
    #[::ipc_runtime::data]
    #[derive(
        ::core::clone::Clone,
        ::core::fmt::Debug,
        ::core::cmp::PartialEq,
        ::serde::Serialize,
        ::serde::Deserialize,
    )]
    pub struct Item {
        pub id: u32,
        pub name: ::std::string::String,
        pub tags: ::std::vec::Vec<::std::string::String>,
        pub parent: ::core::option::Option<u32>,
    }

    /// Why a lookup failed.
    #[::ipc_runtime::data]
    #[derive(
        ::core::clone::Clone,
        ::core::fmt::Debug,
        ::core::cmp::PartialEq,
        ::serde::Serialize,
        ::serde::Deserialize,
    )]
    pub enum Problem {
        Missing { id: u32 },
        Other(::std::string::String),
    }

    /// A store of items.
    #[::ipc_runtime::channels(namespace = "hygiene")]
    pub trait Store {
        /// Finds an item.
        async fn get(&self, id: u32) -> ::core::result::Result<Item, Problem>;
        async fn list(&self) -> ::std::vec::Vec<Item>;
        async fn touch(&self, a: u32, b: ::std::string::String);
        #[send]
        fn log(&self, line: ::std::string::String);
        #[send]
        fn ping(&self);
        #[event]
        fn changed(&self, item: Item);
        #[event]
        fn cleared(&self);
        #[event]
        fn moved(&self, from: u32, to: u32);
    }

    /// Large integers, opted in.
    #[::ipc_runtime::channels(namespace = "hygiene_large", large_ints = "number")]
    pub trait Large {
        async fn size(&self) -> u64;
    }
}

mod shadowing {
    // Items named like the prelude and the runtime's own items, in scope where the code expands.
    #![allow(dead_code, non_camel_case_types)]

    pub struct Result;
    pub struct Option;
    pub struct Ok;
    pub struct Err;
    pub struct Some;
    pub struct None;
    pub struct String;
    pub struct Vec;
    pub struct Box;
    pub struct Arc;
    pub struct OnceLock;
    pub trait Send {}
    pub trait Sync {}
    pub trait Future {}
    pub trait Clone {}
    pub trait Debug {}
    pub trait Default {}
    pub trait Into {}
    pub struct Main;
    pub struct Caller;
    pub struct Renderer;
    pub struct Target;
    pub struct NoArgs;
    pub struct Never;
    pub struct Service;
    pub struct Method;
    pub mod ipc_runtime {}
    pub mod core {}
    pub mod std {}

    // (No #[data] type here: the `ts-rs` derive behind it names `String`, `Option` and `Some`
    // unqualified, so it cannot be used where they are shadowed.)
    pub use crate::hygiene::Item;

    #[::ipc_runtime::channels(namespace = "shadowing")]
    pub trait Shadowed {
        async fn get(&self, id: u32) -> ::core::result::Result<Item, ::std::string::String>;
        async fn count(&self) -> u32;
        #[send]
        fn log(&self, id: u32);
        #[event]
        fn changed(&self, item: Item);
        #[event]
        fn cleared(&self);
    }
}

mod ordinary {
    // #[data] in an ordinary module that defines its own `Result` and imports from `std`.
    use std::collections::BTreeMap;

    pub type Result<T> = core::result::Result<T, String>;

    #[ipc_runtime::data]
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct Index {
        pub entries: BTreeMap<String, u32>,
    }

    #[ipc_runtime::data]
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct Entry {
        pub key: String,
    }

    // One type defined twice under opposite #[cfg]s, written after #[data].
    #[ipc_runtime::data]
    #[cfg(all())]
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct Twin {
        pub left: u32,
    }

    #[ipc_runtime::data]
    #[cfg(any())]
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct Twin {
        pub right: String,
    }

    pub fn lookup(index: &Index, key: &str) -> Result<u32> {
        index
            .entries
            .get(key)
            .copied()
            .ok_or_else(|| format!("no {key}"))
    }

    pub mod nested {
        use super::*;

        #[ipc_runtime::data]
        #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
        pub struct Nested {
            pub index: Index,
            pub entry: Option<Entry>,
        }

        pub fn first(index: &Index) -> Result<u32> {
            lookup(index, "first")
        }
    }
}

use futures_util::StreamExt;
use hygiene::{Item, Problem, StoreHandler};
use ipc_runtime::{Caller, Main, RendererOptions, Target};

struct Backend;

impl StoreHandler for Backend {
    async fn get(&self, _caller: &Caller, id: u32) -> Result<Item, Problem> {
        if id == 1 {
            Ok(Item {
                id,
                name: "one".into(),
                tags: vec![],
                parent: None,
            })
        } else {
            Err(Problem::Missing { id })
        }
    }

    async fn list(&self, _caller: &Caller) -> Vec<Item> {
        Vec::new()
    }

    async fn touch(&self, _caller: &Caller, _a: u32, _b: String) {}

    async fn log(&self, _caller: &Caller, _line: String) {}

    async fn ping(&self, _caller: &Caller) {}
}

impl hygiene::LargeHandler for Backend {
    async fn size(&self, _caller: &Caller) -> u64 {
        u64::MAX
    }
}

impl shadowing::ShadowedHandler for Backend {
    async fn get(&self, _caller: &Caller, id: u32) -> Result<shadowing::Item, String> {
        Ok(Item {
            id,
            name: String::new(),
            tags: Vec::new(),
            parent: Some(1),
        })
    }

    async fn count(&self, _caller: &Caller) -> u32 {
        3
    }

    async fn log(&self, _caller: &Caller, _id: u32) {}
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let index = ordinary::Index {
        entries: [("first".to_string(), 1)].into(),
    };
    assert_eq!(ordinary::nested::first(&index), Ok(1));
    assert_eq!(ordinary::lookup(&index, "x"), Err("no x".to_string()));
    let _ = ordinary::nested::Nested { index, entry: None };
    let _ = ordinary::Twin { left: 1 };

    let main = Main::new();
    let _store = hygiene::Store::handle(&main, Backend).unwrap();
    let _large = hygiene::Large::handle(&main, Backend).unwrap();
    let _shadowed = shadowing::Shadowed::handle(&main, Backend).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("window"));

    let store = hygiene::Store::client(&renderer);
    assert_eq!(store.get(1).await.unwrap().name, "one");
    assert_eq!(
        store.get(2).await,
        Err(ipc_runtime::CallError::App(Problem::Missing { id: 2 }))
    );
    assert!(store.list().await.unwrap().is_empty());
    store.touch(1, "b".into()).await.unwrap();
    store.log("line".into()).unwrap();
    store.ping().unwrap();
    let mut moved = store.on_moved();
    assert_eq!(hygiene::Store::events(&main).moved(Target::All, 1, 2), 1);
    assert_eq!(moved.next().await, Some(Ok((1, 2))));
    assert_eq!(hygiene::Store::schema().methods.len(), 8);
    assert!(hygiene::Store::schema().types.contains_key("Item"));

    assert_eq!(
        hygiene::Large::client(&renderer).size().await.unwrap(),
        u64::MAX
    );

    let shadowed = shadowing::Shadowed::client(&renderer);
    assert_eq!(shadowed.get(4).await.unwrap().id, 4);
    assert_eq!(shadowed.count().await.unwrap(), 3);
    let mut cleared = shadowed.on_cleared();
    assert_eq!(shadowing::Shadowed::events(&main).cleared(Target::All), 1);
    assert_eq!(cleared.next().await, Some(Ok(())));
}
